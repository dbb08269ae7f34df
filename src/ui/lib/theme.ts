/** The page's colour theme: `?theme=`, else the one saved by the T key, else the system's (null). */
export type ThemeName = "light" | "dark";

export function readTheme(param: string | null): ThemeName | null {
  const t =
    param ??
    (() => {
      try {
        return localStorage.getItem("lockstep-theme");
      } catch {
        return null;
      }
    })();
  return t === "light" || t === "dark" ? t : null;
}

export function applyTheme(theme: ThemeName | null): void {
  if (theme) document.documentElement.dataset.theme = theme;
  else delete document.documentElement.dataset.theme;
}

/** The other theme than the one shown, saved for the next visit (not in private mode). */
export function nextTheme(theme: ThemeName | null): ThemeName {
  const current = theme ?? (matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light");
  const next = current === "dark" ? "light" : "dark";
  try {
    localStorage.setItem("lockstep-theme", next);
  } catch {
    /* private mode */
  }
  return next;
}
