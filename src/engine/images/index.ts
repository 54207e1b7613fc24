export { bootstrapBusybox, busyboxEntries, isStaticElf, BOOTSTRAP_TIME, type BootstrapOptions } from './bootstrap.ts';
