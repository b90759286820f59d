/**
 * Where a TypeScript source names error codes: in code (string and template literals, identifiers) or
 * only in comments. Parsed with the TypeScript compiler, so a code in a comment, or a comment-like run
 * inside a string, is never taken for the other.
 */
import ts from 'typescript';

/** A full code name; `OVC_ERR_FLOW_*` and `OVC_ERR_<AREA>_<WHAT>` (families in prose) do not match. */
const CODE = /OVC_ERR_[A-Z0-9_]*[A-Z0-9](?![A-Z0-9_*])/g;

export interface CodeMentions {
  /** Codes in string or template literals and identifiers: what the code can raise or test. */
  inCode: Set<string>;
  /** Codes in comments. */
  inComments: Set<string>;
}

export function scanCodeMentions(fileName: string, text: string): CodeMentions {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const inCode = new Set<string>();
  // Literal text blanked out (same length, line breaks kept), so that scanning what is left for
  // comments cannot take a `//` or `/*` inside a string, template or regular expression for one.
  const blanked = text.split('');
  const blank = (node: ts.Node) => {
    for (let i = node.getStart(sf); i < node.end; i++) if (blanked[i] !== '\n') blanked[i] = ' ';
  };
  const visit = (node: ts.Node): void => {
    if (ts.isStringLiteralLike(node) || ts.isTemplateLiteralToken(node) || ts.isIdentifier(node)) {
      for (const code of node.text.match(CODE) ?? []) inCode.add(code);
    }
    if (ts.isStringLiteralLike(node) || ts.isTemplateLiteralToken(node) || ts.isRegularExpressionLiteral(node)) blank(node);
    ts.forEachChild(node, visit);
  };
  visit(sf);
  const inComments = new Set<string>();
  const scanner = ts.createScanner(ts.ScriptTarget.Latest, false, ts.LanguageVariant.Standard, blanked.join(''));
  for (let t = scanner.scan(); t !== ts.SyntaxKind.EndOfFileToken; t = scanner.scan()) {
    if (t === ts.SyntaxKind.SingleLineCommentTrivia || t === ts.SyntaxKind.MultiLineCommentTrivia) {
      for (const code of scanner.getTokenText().match(CODE) ?? []) inComments.add(code);
    }
  }
  return { inCode, inComments };
}

/** Declared codes no source names in code: declared but never raised. */
export function unraisedCodes(declared: Iterable<string>, sources: CodeMentions[]): string[] {
  const raised = new Set(sources.flatMap((s) => [...s.inCode]));
  return [...declared].filter((c) => !raised.has(c));
}

/** Codes the sources name, in code or comments, that are not declared. */
export function undeclaredCodes(declared: Iterable<string>, sources: CodeMentions[]): string[] {
  const known = new Set(declared);
  const named = new Set(sources.flatMap((s) => [...s.inCode, ...s.inComments]));
  return [...named].filter((c) => !known.has(c)).sort();
}
