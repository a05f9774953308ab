export { CPU_PROFILES, CPU_NAMES, profileByName, type CpuProfile } from './profiles.js';
export { chooseCpuMove, expectedUnknownValue, moveToCommand, type CpuMove } from './decide.js';
