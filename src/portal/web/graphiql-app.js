// Entry point of the self-hosted GraphiQL bundle (built by build.mjs with esbuild).
//
// Everything the page needs is bundled and served by the API itself under
// /graphiql/assets/: no CDN, no web fonts from third parties, no inline script
// (the page's Content-Security-Policy forbids it).
//
// URL search parameters (for deep links from testers and support agents), also
// accepted in the URL fragment:
//   query     initial GraphQL document
//   variables initial variables (a JSON object)
//   headers   initial request headers (a JSON object, e.g. {"Authorization": "Bearer ..."})
import 'graphiql/style.css';

import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import { createElement } from 'react';
import { createRoot } from 'react-dom/client';

// Monaco's web workers are separate bundles next to this file. Their hashed file
// names are injected at build time (see build.mjs), so every asset can be cached
// as immutable.
const WORKERS = {
  editor: __EDITOR_WORKER__,
  json: __JSON_WORKER__,
  graphql: __GRAPHQL_WORKER__,
};

globalThis.MonacoEnvironment = {
  getWorker(_workerId, label) {
    const file = WORKERS[label] ?? WORKERS.editor;
    return new Worker(new URL(`./${file}`, import.meta.url), { name: `monaco-${label}` });
  },
};

/** The JSON object in ``text``, or ``undefined`` when it is not one. */
function parseObject(text) {
  try {
    const value = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** A JSON-object URL parameter, pretty-printed; other text is kept as given so the
 * user can see and fix it in the editor. */
function jsonParam(params, name) {
  const raw = params.get(name);
  if (raw === null || raw.trim() === '') {
    return undefined;
  }
  const value = parseObject(raw);
  if (value === undefined) {
    console.warn(`GraphiQL: URL parameter "${name}" is not a JSON object; shown unchanged.`);
    return raw;
  }
  return JSON.stringify(value, null, 2);
}

function mount() {
  const container = document.getElementById('graphiql');
  if (container === null) {
    throw new Error('GraphiQL: element #graphiql not found');
  }
  const endpoint = container.dataset.endpoint || '/graphql';

  // Layout without an inline <style> element (CSSOM writes are allowed by the CSP).
  document.documentElement.style.height = '100%';
  document.body.style.height = '100%';
  document.body.style.margin = '0';
  container.style.height = '100dvh';
  container.textContent = '';

  // The same parameters are also read from the URL fragment (#headers=...), which the
  // browser never sends to the server, so a token there stays out of access logs.
  const params = new URLSearchParams(window.location.search);
  for (const [name, value] of new URLSearchParams(window.location.hash.replace(/^#/, ''))) {
    if (!params.has(name)) {
      params.set(name, value);
    }
  }
  const query = params.get('query');
  const variables = jsonParam(params, 'variables');
  const headers = jsonParam(params, 'headers');

  const httpFetcher = createGraphiQLFetcher({
    url: new URL(endpoint, window.location.href).toString(),
  });
  // GraphiQL introspects the schema as soon as it mounts, before its headers editor
  // exists, so that request would go out without the deep-linked headers (and fail
  // when the API wants a token). Until the user edits the headers, requests sent
  // without headers get the deep-linked ones.
  const linkedHeaders = headers !== undefined ? parseObject(headers) : undefined;
  let headersEdited = false;
  const fetcher = (graphQLParams, opts) =>
    httpFetcher(
      graphQLParams,
      linkedHeaders !== undefined && !headersEdited && opts?.headers == null
        ? { ...opts, headers: linkedHeaders }
        : opts,
    );

  const props = {
    fetcher,
    isHeadersEditorEnabled: true,
    // Never write request headers (bearer tokens) to localStorage.
    shouldPersistHeaders: false,
    defaultEditorToolsVisibility: headers !== undefined ? 'headers' : undefined,
    onEditHeaders: () => {
      headersEdited = true;
    },
  };
  if (query !== null) {
    props.initialQuery = query;
  }
  if (variables !== undefined) {
    props.initialVariables = variables;
  }
  if (headers !== undefined) {
    props.initialHeaders = headers;
  }

  createRoot(container).render(createElement(GraphiQL, props));
}

if (document.readyState === 'loading') {
  document.addEventListener('DOMContentLoaded', mount, { once: true });
} else {
  mount();
}
