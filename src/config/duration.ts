const UNIT_SECONDS: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86400 };

/** Parses `90`, `90s`, `15m`, `1h`, `7d` into seconds; undefined when the text is not such a duration. */
export function parseDurationSeconds(text: string): number | undefined {
  const match = /^(\d{1,9})\s*([smhd]?)$/.exec(text.trim());
  if (!match) return undefined;
  const seconds = Number(match[1]) * UNIT_SECONDS[match[2]];
  return seconds > 0 ? seconds : undefined;
}
