// The registry server: OCI distribution storage, HTTP server, auth and garbage collection.
export { RegistryError, registryError, ERROR_STATUS, type RegistryErrorCode } from './errors.ts';
export { RegistryStorage, type RegistryStorageOptions } from './storage.ts';
export { RegistryServer, parseListenAddress, isLoopbackHost, streamLogger, silentLogger, isLogLevel, type Logger, type LogLevel, type ListeningRegistry } from './server.ts';
export { HtpasswdAuth, parseHtpasswd } from './auth.ts';
export { collectGarbage, formatBytes, type GcResult, type GcOptions } from './gc.ts';
export { lockRoot, RootLockedError } from './lock.ts';
