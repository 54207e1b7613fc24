// String order as Docker's Go code sorts: by code unit, never by locale. (localeCompare would also
// load ICU's collation data, several megabytes of the daemon's memory, at the first sort.)

export function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
