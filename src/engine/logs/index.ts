// Container logs: reading conmon's k8s-file logs as Docker log entries, and json-file style rotation.
export { readLogs, type ReadLogsOptions } from './read.ts';
export {
  formatTimestamp,
  parseRecord,
  parseTimestamp,
  LineAssembler,
  MAX_ENTRY_BYTES,
  type LogEntry,
  type LogRecord,
  type LogStream,
} from './k8s-file.ts';
export {
  parseLogOptions,
  compressRotated,
  parseHumanSize,
  LogRotator,
  removeLogs,
  logsSize,
  DEFAULT_LOG_LIMITS,
  type LogLimits,
  type LogRotatorOptions,
} from './rotate.ts';
