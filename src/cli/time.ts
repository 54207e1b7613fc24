// Time as the docker CLI prints it (Go's time.Time String and RFC 3339 with nanoseconds), in the local zone.

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

function offsetText(date: Date, colon: boolean): string {
  const off = -date.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const abs = Math.abs(off);
  return `${sign}${pad(Math.floor(abs / 60))}${colon ? ':' : ''}${pad(abs % 60)}`;
}

function localParts(date: Date): string {
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** Go's `time.Time.String()`: `2024-01-02 15:04:05 +0000 UTC`. */
export function goTimeString(ms: number): string {
  const d = new Date(ms);
  const zone = d.getTimezoneOffset() === 0 ? 'UTC' : offsetText(d, false);
  return `${localParts(d)} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${offsetText(d, false)} ${zone}`;
}

/** RFC 3339 with exactly nine fractional digits (docker's RFC3339NanoFixed), `Z` for UTC. */
export function rfc3339NanoFixed(nanos: bigint): string {
  const ms = Number(nanos / 1_000_000n);
  const frac = (((nanos % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n).toString().padStart(9, '0');
  const d = new Date(ms);
  const zone = d.getTimezoneOffset() === 0 ? 'Z' : offsetText(d, true);
  return `${localParts(d)}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${frac}${zone}`;
}
