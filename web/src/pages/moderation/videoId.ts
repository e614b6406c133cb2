/** A video's id from what a moderator pastes: the id itself or any link that holds it. */
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

export function videoIdFrom(text: string): string | null {
  return UUID.exec(text)?.[0]?.toLowerCase() ?? null;
}

/** Seconds in words: "90 seconds", "10 minutes", "2 hours", "3 days". */
export function duration(seconds: number): string {
  const units: [number, string][] = [
    [86400, 'day'],
    [3600, 'hour'],
    [60, 'minute'],
  ];
  for (const [size, name] of units) {
    if (seconds >= size && seconds % size === 0) {
      const n = seconds / size;
      return `${n} ${name}${n === 1 ? '' : 's'}`;
    }
  }
  return `${seconds} second${seconds === 1 ? '' : 's'}`;
}
