/**
 * The one place the softswitch picks its classifier. The fast classifier (a separate issue) replaces
 * LinearClassifier here and nowhere else.
 */
import { LinearClassifier, type Classifier } from '../classifier/index.js';

export type ClassifierFactory = <T>() => Classifier<T>;

export const createFlowClassifier: ClassifierFactory = <T>() => new LinearClassifier<T>();
