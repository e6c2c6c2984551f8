/** ISO 8601 time from epoch milliseconds. */
export const iso = (ms: number): string => new Date(ms).toISOString();
