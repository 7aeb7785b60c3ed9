// The code samples of README.md and docs/*.md, shared by scripts/check-doc-samples.mjs (type-checks every
// ```ts sample) and scripts/run-doc-samples.mjs (runs every complete program).
//
// A sample is a fenced block whose info string starts with `ts` or `js`. Words after the language are
// flags: `long-running` marks a complete program that keeps a connection open on purpose (a Redis client,
// a server): it passes once its top-level code has finished without error, and is then stopped.
//
// A sample is a *complete program* when it uses none of the names below without importing or defining
// them itself: copied verbatim into a file, it runs. Other samples are fragments that continue an earlier
// sample of the page (`ai`, `server`, `OpenAI`...); they are type-checked with those names declared, and
// not run. Which names a sample uses is read from its syntax tree (TypeScript's parser), so a word in a
// comment or a string, or a property name, is not a use.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

/** Names a fragment may use as if an earlier sample on the page had imported them. */
export const IMPORTS = {
  openai: { default: 'OpenAI', named: ['AzureOpenAI'] },
  'openai-resilient': { named: ['resilient', 'classify', 'fallbackFailuresOf', 'partialOutputOf', 'isResilienceError', 'noCache', 'defaultCacheable', 'StreamIdleTimeoutError', 'StreamTruncatedError', 'isBudgetExceededError'] },
  'openai-resilient/testing': { named: ['startFaultServer', 'faults', 'FakeClock', 'createFaultFetch'] },
  cockatiel: { named: ['ExponentialBackoff', 'timeout', 'TimeoutStrategy'] },
  redis: { named: ['createClient'] },
};

/** Names a fragment may use as if an earlier sample (or the reader's own code) had defined them. */
export const DECLARATIONS = {
  ai: "declare const ai: import('openai-resilient').ResilientClient<import('openai').OpenAI>;",
  server: "declare const server: import('openai-resilient/testing').FaultServer;",
  params: "declare const params: import('openai').OpenAI.Chat.ChatCompletionCreateParamsNonStreaming;",
  messages: "declare const messages: import('openai').OpenAI.Chat.ChatCompletionMessageParam[];",
  endpoint: 'declare const endpoint: string;',
  apiKey: 'declare const apiKey: string;',
  apiVersion: 'declare const apiVersion: string;',
  deployment: 'declare const deployment: string;',
  otherProvider: 'declare const otherProvider: string;',
  otherKey: 'declare const otherKey: string;',
  sorryCompletion: "declare function sorryCompletion(request: { model: string | undefined }): import('openai').OpenAI.Chat.ChatCompletion;",
  render: 'declare function render(chunk: unknown): void;',
  showPartial: 'declare function showPartial(text: string): void;',
  notifyBilling: 'declare function notifyBilling(): void;',
  retryWithShorterHistory: 'declare function retryWithShorterHistory(): void;',
  alertBilling: 'declare function alertBilling(): void;',
};

/** The documents whose samples are checked: README.md and docs/*.md. */
export function documents(root) {
  return ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];
}

/**
 * Every ```ts and ```js sample of the documents, in order: `{ file, line, lang, flags, code, where,
 * name, free, prelude, complete }`. `line` is the (1-based) line of the opening fence; `where` is
 * `file:line`; `code` is the sample padded with blank lines so that its line numbers are the document's.
 */
export function readSamples(root) {
  const samples = [];
  for (const file of documents(root)) {
    const text = readFileSync(join(root, file), 'utf8');
    for (const match of text.matchAll(/^```(ts|js)([^\n]*)\n([\s\S]*?)^```[ \t]*$/gm)) {
      const line = text.slice(0, match.index).split('\n').length;
      const lang = match[1];
      const flags = new Set(match[2].trim().split(/\s+/).filter(Boolean));
      const body = match[3];
      const free = freeNames(body, lang);
      const prelude = preludeFor(free);
      samples.push({
        file,
        line,
        lang,
        flags,
        where: `${file}:${line}`,
        name: `${file.replace(/[/.]/g, '_')}_L${line}`,
        code: '\n'.repeat(line) + body,
        free,
        prelude,
        complete: prelude.length === 0,
      });
    }
  }
  return samples;
}

/** The imports and declarations a fragment needs for the names it uses without defining them. */
function preludeFor(free) {
  const prelude = [];
  for (const [from, { default: def, named = [] }] of Object.entries(IMPORTS)) {
    const names = named.filter((name) => free.has(name));
    const head = def && free.has(def) ? def : '';
    if (head || names.length > 0) prelude.push(`import ${[head, names.length ? `{ ${names.join(', ')} }` : ''].filter(Boolean).join(', ')} from '${from}';`);
  }
  for (const [name, declaration] of Object.entries(DECLARATIONS)) if (free.has(name)) prelude.push(declaration);
  return prelude;
}

/**
 * The names the code refers to without declaring them anywhere (imports, variables, functions, classes,
 * parameters, types). Scope is ignored: a name declared anywhere in the sample counts as its own.
 */
export function freeNames(body, lang = 'ts') {
  const source = ts.createSourceFile(`sample.${lang}`, body, ts.ScriptTarget.Latest, true, lang === 'js' ? ts.ScriptKind.JS : ts.ScriptKind.TS);
  const declared = new Set();
  const used = new Set();
  const visit = (node) => {
    if (ts.isIdentifier(node)) {
      const role = roleOf(node);
      if (role === 'declaration') declared.add(node.text);
      else if (role === 'reference') used.add(node.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return new Set([...used].filter((name) => !declared.has(name)));
}

/** Whether an identifier declares a name, refers to one, or is only a property or label name. */
function roleOf(id) {
  const parent = id.parent;
  const declares = [
    ts.isVariableDeclaration,
    ts.isFunctionDeclaration,
    ts.isFunctionExpression,
    ts.isClassDeclaration,
    ts.isClassExpression,
    ts.isInterfaceDeclaration,
    ts.isTypeAliasDeclaration,
    ts.isEnumDeclaration,
    ts.isModuleDeclaration,
    ts.isParameter,
    ts.isTypeParameterDeclaration,
    ts.isImportClause,
    ts.isNamespaceImport,
    ts.isImportEqualsDeclaration,
  ];
  if (declares.some((is) => is(parent)) && parent.name === id) return 'declaration';
  if (ts.isBindingElement(parent)) return parent.propertyName === id ? 'name' : 'declaration';
  if (ts.isImportSpecifier(parent)) return parent.name === id ? 'declaration' : 'name';
  if (ts.isExportSpecifier(parent)) return parent.propertyName === id || (!parent.propertyName && parent.name === id) ? 'reference' : 'name';
  if (ts.isPropertyAccessExpression(parent) && parent.name === id) return 'name';
  if (ts.isQualifiedName(parent) && parent.right === id) return 'name';
  const named = [
    ts.isPropertyAssignment,
    ts.isPropertyDeclaration,
    ts.isPropertySignature,
    ts.isMethodDeclaration,
    ts.isMethodSignature,
    ts.isGetAccessorDeclaration,
    ts.isSetAccessorDeclaration,
    ts.isEnumMember,
  ];
  if (named.some((is) => is(parent)) && parent.name === id) return 'name';
  if ((ts.isLabeledStatement(parent) || ts.isBreakOrContinueStatement(parent)) && parent.label === id) return 'name';
  if (ts.isMetaProperty(parent)) return 'name';
  return 'reference';
}
