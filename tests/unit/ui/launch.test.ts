import { describe, expect, it } from "vitest";
import { DEFAULT_GUEST, GUESTS, parseLaunch } from "../../../src/ui/lib/launch.ts";

const BASE = "https://lockstep.example.org/app/";

describe("launch parameters (mode=, guest=)", () => {
  it("defaults to the FT teaching UI with the default guest", () => {
    const r = parseLaunch("", BASE);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.launch.mode).toBe("ft");
    expect(r.launch.guest.id).toBe(DEFAULT_GUEST);
    expect(r.launch.imagesUrl).toBe(`${BASE}images/`);
    expect(r.launch).toMatchObject({ diskMode: "shared", readMode: "log", ft: true });
  });

  it("selects mode, guest and the old FT options", () => {
    const r = parseLaunch("?mode=tabs&guest=busybox&reads=backup&disk=non-shared&ft=off", BASE);
    expect(r.ok && r.launch).toMatchObject({ mode: "tabs", guest: { id: "busybox" }, readMode: "backup-reads", diskMode: "non-shared", ft: false });
    expect(parseLaunch("?mode=plain", BASE)).toMatchObject({ ok: true, launch: { mode: "plain" } });
    expect(parseLaunch("?mode=ft", BASE)).toMatchObject({ ok: true, launch: { mode: "ft" } });
  });

  it("images= still overrides the guest's image directory", () => {
    const r = parseLaunch("?images=/no-such-images/", BASE);
    expect(r.ok && r.launch.imagesUrl).toBe("https://lockstep.example.org/no-such-images/");
  });

  it("an unknown guest is an error listing every available guest", () => {
    const r = parseLaunch("?guest=windows95", BASE);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.param).toBe("guest");
    expect(r.message).toContain("windows95");
    expect(r.choices.map(([id]) => id)).toEqual(GUESTS.map((g) => g.id));
  });

  it("an unknown mode is an error listing the modes", () => {
    const r = parseLaunch("?mode=remus-only", BASE);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.param).toBe("mode");
    expect(r.choices.map(([id]) => id).sort()).toEqual(["ft", "plain", "tabs"]);
    // Object.prototype keys are not modes.
    expect(parseLaunch("?mode=toString", BASE).ok).toBe(false);
  });
});
