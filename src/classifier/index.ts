export { NO_MATCH, beats, ruleMatches, type Classifier, type ClassifierRule, type RangeMatch } from './classifier.js';
export { LinearClassifier } from './linear.js';
export { FlatLinearClassifier } from './linear-flat.js';
export { TupleSpaceClassifier } from './tuple-space.js';
export { TUPLE_MERGE_DEFAULTS, type TupleSpaceOptions } from './tuple-space-options.js';
export { CachedClassifier, DEFAULT_CACHE_ENTRIES, type FlowCacheStats } from './flow-cache.js';
export { createClassifier, isClassifierAlgo, CLASSIFIER_ALGOS, type ClassifierAlgo, type ClassifierFactoryOptions } from './factory.js';
export {
  parseClassBenchRule,
  parseClassBenchRules,
  parseClassBenchTrace,
  classBenchToRule,
  classBenchRulesToClassifierRules,
  traceKey,
  TRACE_WORDS,
  type ClassBenchRule,
  type ClassBenchTrace,
} from './classbench.js';
