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

describe("launch parameters: cluster=etcd (issue 14)", () => {
  it("without cluster=, everything stays in this browser", () => {
    expect(parseLaunch("", BASE)).toMatchObject({ ok: true, launch: { etcd: null } });
    expect(parseLaunch("?cluster=browser&mode=tabs", BASE)).toMatchObject({ ok: true, launch: { etcd: null, mode: "tabs" } });
  });

  it("cluster=etcd with etcd's address: one host per page (tabs), the endpoint without a trailing slash", () => {
    expect(parseLaunch("?cluster=etcd&etcd=http://192.168.1.20:23790/", BASE)).toMatchObject({ ok: true, launch: { mode: "tabs", etcd: { endpoint: "http://192.168.1.20:23790" } } });
    expect(parseLaunch("?cluster=etcd&etcd=http%3A%2F%2F10.0.0.7%3A2379&disk=non-shared", BASE)).toMatchObject({ ok: true, launch: { mode: "tabs", diskMode: "non-shared", etcd: { endpoint: "http://10.0.0.7:2379" } } });
  });

  it("a missing or wrong etcd address, an unknown cluster, or a mode that cannot span computers is an error", () => {
    expect(parseLaunch("?cluster=etcd", BASE)).toMatchObject({ ok: false, param: "etcd", value: "" });
    expect(parseLaunch("?cluster=etcd&etcd=192.168.1.20:23790x", BASE)).toMatchObject({ ok: false, param: "etcd" });
    expect(parseLaunch("?cluster=etcd&etcd=ftp://h:1", BASE)).toMatchObject({ ok: false, param: "etcd" });
    expect(parseLaunch("?cluster=zookeeper", BASE)).toMatchObject({ ok: false, param: "cluster", value: "zookeeper" });
    expect(parseLaunch("?cluster=etcd&etcd=http://h:1&mode=plain", BASE)).toMatchObject({ ok: false, param: "mode", value: "plain" });
  });
});
