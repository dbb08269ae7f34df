export { runSeed, runSeeds, type RunResult, type BatchResult } from './run';
export { makeScenario, type Scenario } from './scenario';
export { World, LIVENESS_BOUND_MS } from './world';
export { ToyVm } from './toy-vm';
export { Rng } from './rng';
