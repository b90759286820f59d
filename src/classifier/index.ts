export { beats, type Classifier, type ClassifierRule } from './classifier.js';
export { LinearClassifier } from './linear.js';
