// bella's layering rule, `bella/layers` (after VS Code's local `code-layering` rule): every file
// belongs to the layer whose folder holds it, and may import only what its layer allows. Relative
// imports are resolved to repository paths, so the rule judges where an import lands, not how its
// specifier is spelled.
import { builtinModules } from 'node:module';
import path from 'node:path';

const NODE_BUILTINS = new Set(builtinModules);
const SOURCE_EXTENSION = /\.(?:d\.ts|ts|tsx|mts|cts|js|jsx|mjs|cjs)$/;

/**
 * One layer of the repository.
 * @typedef {object} Layer
 * @property {string[]} [imports] Repository folders or modules (path without extension) its files may import.
 * @property {string[]} [importsTypes] Ones it may import with `import type` / `export type` only.
 * @property {boolean} [node] Whether Node's built-in modules are allowed (default true).
 * @property {boolean} [electron] Whether the `electron` module is allowed (default false).
 * @property {string[]} [packages] The npm packages it may load (type-only imports of any are fine); all when left out.
 */

/** True when `target` is `folder` itself or lies inside it. */
function isWithin(target, folder) {
  return target === folder || target.startsWith(`${folder}/`);
}

/** The layer (its folder) that holds `file`: the longest matching folder. */
function layerOf(file, layers) {
  let best;
  for (const folder of Object.keys(layers)) {
    if (isWithin(file, folder) && (best === undefined || folder.length > best.length)) best = folder;
  }
  return best;
}

/** `folder → a, b; types only: c` for error messages. */
function describeLayer(folder, layer) {
  const values = layer.imports?.length ? layer.imports.join(', ') : 'nothing of ours';
  const types = layer.importsTypes?.length ? `; with import type only: ${layer.importsTypes.join(', ')}` : '';
  return `${folder} → ${values}${types}`;
}

/** The npm package a bare specifier names: `zod`, `@scope/name`. */
function packageName(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** @type {import('eslint').Rule.RuleModule} */
const rule = {
  meta: {
    type: 'problem',
    docs: { description: 'Each layer imports only the layers below it' },
    schema: [
      {
        type: 'object',
        properties: {
          root: { type: 'string' },
          layers: { type: 'object', additionalProperties: { type: 'object' } },
        },
        required: ['root', 'layers'],
        additionalProperties: false,
      },
    ],
    messages: {
      crossing: '{{importer}} may not import {{target}} ({{rule}}).',
      typesOnly: '{{importer}} may import {{target}} with `import type` only ({{rule}}).',
    },
  },
  create(context) {
    const { root, layers } = context.options[0];
    const relative = (file) => path.relative(root, file).split(path.sep).join('/').replace(SOURCE_EXTENSION, '');
    const file = relative(context.filename);
    if (file.startsWith('..')) return {};
    const importer = layerOf(file, layers);
    if (importer === undefined) return {};
    const layer = /** @type {Layer} */ (layers[importer]);
    const allowed = describeLayer(importer, layer);

    /** Why importing `specifier` crosses the layer's bounds, or null when it may. */
    function verdict(specifier, typeOnly) {
      if (specifier.startsWith('.') || specifier.startsWith('/')) {
        const target = relative(path.resolve(path.dirname(context.filename), specifier));
        if (target.startsWith('..')) return null;
        if (layerOf(target, layers) === importer) return null;
        if (layer.imports?.some((folder) => isWithin(target, folder))) return null;
        if (layer.importsTypes?.some((folder) => isWithin(target, folder))) {
          return typeOnly ? null : { messageId: 'typesOnly', target };
        }
        return { messageId: 'crossing', target };
      }
      const bare = specifier.replace(/^node:/, '');
      if (specifier.startsWith('node:') || NODE_BUILTINS.has(packageName(bare))) {
        return layer.node === false ? { messageId: 'crossing', target: `Node's ${specifier} (no Node here)` } : null;
      }
      const name = packageName(specifier);
      if (name === 'electron') {
        return layer.electron ? null : { messageId: 'crossing', target: 'electron (no Electron here)' };
      }
      if (layer.packages && !layer.packages.includes(name) && !typeOnly) {
        return { messageId: 'crossing', target: `the package ${name}` };
      }
      return null;
    }

    function check(source, typeOnly) {
      if (source?.type !== 'Literal' || typeof source.value !== 'string') return;
      const found = verdict(source.value, typeOnly);
      if (found)
        context.report({
          node: source,
          messageId: found.messageId,
          data: { importer, target: found.target, rule: allowed },
        });
    }

    return {
      // `import { type X }` still loads the module under verbatimModuleSyntax; only `import type` is erased.
      ImportDeclaration: (node) => check(node.source, node.importKind === 'type'),
      ExportNamedDeclaration: (node) => check(node.source, node.exportKind === 'type'),
      ExportAllDeclaration: (node) => check(node.source, node.exportKind === 'type'),
      ImportExpression: (node) => check(node.source, false),
      // `import('x').T` in a type: `source` since typescript-eslint 8.x, `argument.literal` before.
      TSImportType: (node) => check('source' in node ? node.source : node.argument?.literal, true),
      TSExternalModuleReference: (node) => check(node.expression, node.parent?.importKind === 'type'),
      CallExpression: (node) => {
        if (node.callee.type === 'Identifier' && node.callee.name === 'require') check(node.arguments[0], false);
      },
    };
  },
};

/** The local ESLint plugin holding {@link rule}. */
export default { meta: { name: 'bella' }, rules: { layers: rule } };
