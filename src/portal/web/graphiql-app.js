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
//
// Subscriptions (``subscription { documentPosted { ... } }``) run over a WebSocket to the
// same endpoint (graphql-transport-ws, the graphql-ws client): each one opens its own
// socket, sends the request headers as the ``connection_init`` payload (that is where the
// API reads the bearer token of a socket), and closes it when GraphiQL stops the operation.
import 'graphiql/style.css';

import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import { getOperationAST, parse } from 'graphql';
import { createClient } from 'graphql-ws';
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

/** Whether the operation GraphiQL is about to run is a subscription. */
function isSubscription(graphQLParams, opts) {
  let document = opts?.documentAST;
  if (document == null) {
    try {
      document = parse(graphQLParams.query);
    } catch {
      return false;
    }
  }
  return getOperationAST(document, graphQLParams.operationName || undefined)?.operation === 'subscription';
}

/** The WebSocket URL of an HTTP(S) endpoint URL (same host, ws: or wss:). */
function webSocketUrl(httpUrl) {
  const url = new URL(httpUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

/** A readable message for what a graphql-ws client reports as an error. */
function describe(error) {
  if (error instanceof Error) {
    return error.message;
  }
  if (Array.isArray(error)) {
    return error.map((item) => item?.message ?? String(item)).join('; ');
  }
  if (error != null && typeof error === 'object' && 'code' in error) {
    // A CloseEvent: 4403 means the token in the headers was refused.
    const reason = error.reason ? `: ${error.reason}` : '';
    return `The subscription socket closed (${error.code}${reason}).`;
  }
  return String(error);
}

/** Runs one subscription on its own socket; the socket closes when GraphiQL stops it. */
async function* subscribe(url, graphQLParams, headers) {
  const client = createClient({
    url,
    // Sent as the connection_init payload, e.g. {"Authorization": "Bearer ..."}.
    connectionParams: headers ?? {},
    lazy: true,
    retryAttempts: 0,
  });
  try {
    yield* client.iterate({
      query: graphQLParams.query,
      variables: graphQLParams.variables ?? undefined,
      operationName: graphQLParams.operationName ?? undefined,
    });
  } catch (error) {
    yield { errors: [{ message: describe(error) }] };
  } finally {
    await client.dispose();
  }
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

  const endpointUrl = new URL(endpoint, window.location.href).toString();
  const httpFetcher = createGraphiQLFetcher({ url: endpointUrl });
  const subscriptionUrl = webSocketUrl(endpointUrl);
  // GraphiQL introspects the schema as soon as it mounts, before its headers editor
  // exists, so that request would go out without the deep-linked headers (and fail
  // when the API wants a token). Until the user edits the headers, requests sent
  // without headers get the deep-linked ones.
  const linkedHeaders = headers !== undefined ? parseObject(headers) : undefined;
  let headersEdited = false;
  const fetcher = (graphQLParams, opts) => {
    const effective =
      linkedHeaders !== undefined && !headersEdited && opts?.headers == null
        ? { ...opts, headers: linkedHeaders }
        : opts;
    if (isSubscription(graphQLParams, effective)) {
      return subscribe(subscriptionUrl, graphQLParams, effective?.headers);
    }
    return httpFetcher(graphQLParams, effective);
  };

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
