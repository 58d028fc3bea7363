/**
 * The one way tests and the bench start the system: a Postgres and a Redis target (shared or
 * private, or a private Redis Cluster), api and worker processes from the production bundles, their CPU and memory, and waits.
 * For tests and tools only: no service's source imports it.
 */
export { PostgresCluster, sharedPostgresDatabase, type PostgresTarget } from './postgres.js';
export { PostgresFormation, type FormationNode, type NodeState } from './postgres-formation.js';
export { RedisServer, sharedRedisPrefix, type RedisTarget } from './redis.js';
export {
  RedisCluster,
  parseClusterNodes,
  type ClusterNodeInfo,
  type RedisClusterOptions,
} from './redis-cluster.js';
export { ProcessSystem, type ProcessSystemOptions } from './process-system.js';
export { ServiceProcess, buildServices, type Exit, type Service } from './service-process.js';
export { isRunning, processStats, processTree, treeStats, type ProcessStats } from './process-stats.js';
export { runId } from './run-id.js';
export { freePort, sleep, waitFor } from './wait.js';
