import { describe, expect, it } from "vitest";
import { SHORTCUTS, shortcutAction, type KeyPress } from "../../../src/ui/teach/shortcuts.ts";

const press = (key: string, over: Partial<KeyPress> = {}): KeyPress => ({ key, ctrlKey: false, metaKey: false, altKey: false, inField: false, ...over });

describe("the one page's keyboard shortcuts", () => {
  it("maps the keys of the ? list, either case, to their actions", () => {
    expect(shortcutAction(press("k"), false)).toBe("kill-primary");
    expect(shortcutAction(press("K"), false)).toBe("kill-primary");
    expect(shortcutAction(press("N"), false)).toBe("tour-next");
    expect(shortcutAction(press("ArrowRight"), false)).toBe("tour-next");
    expect(shortcutAction(press("ArrowLeft"), false)).toBe("tour-prev");
    expect(shortcutAction(press(" "), false)).toBe("tour-toggle");
    expect(shortcutAction(press("]"), false)).toBe("pace-up");
    expect(shortcutAction(press(","), false)).toBe("cursor-back");
    expect(shortcutAction(press("3"), false)).toEqual({ tour: 2 });
    expect(shortcutAction(press("0"), false)).toBeNull();
    expect(shortcutAction(press("x"), false)).toBeNull();
  });

  it("leaves keys with a modifier, or typed into a field or the terminal, to the browser", () => {
    for (const over of [{ ctrlKey: true }, { metaKey: true }, { altKey: true }, { inField: true }]) expect(shortcutAction(press("k", over), false)).toBeNull();
  });

  it("while the list is open only ? and Escape act; Escape with the list closed does nothing", () => {
    expect(shortcutAction(press("k"), true)).toBeNull();
    expect(shortcutAction(press("1"), true)).toBeNull();
    expect(shortcutAction(press("?"), true)).toBe("toggle-help");
    expect(shortcutAction(press("Escape"), true)).toBe("close-help");
    expect(shortcutAction(press("Escape"), false)).toBeNull();
    expect(shortcutAction(press("?"), false)).toBe("toggle-help");
  });

  it("every letter the list shows has an action", () => {
    const letters = SHORTCUTS.map(([k]) => k).filter((k) => /^[A-Z]$/.test(k));
    expect(letters.length).toBeGreaterThan(5);
    for (const k of letters) expect(shortcutAction(press(k), false), k).not.toBeNull();
  });
});
