// Starts GraphiQL for the Boternity storage API (loaded by the page app/graphiql.py serves).
//
// - Queries and mutations go to this page's own URL, subscriptions over graphql-transport-ws
//   to the same URL; the Headers tab is sent with both (HTTP headers, connection_init payload).
// - When the headers change, the schema is fetched again with them: a key typed once makes
//   the Docs pane and autocomplete work too, without a manual re-fetch.
// - When the server answers UNAUTHENTICATED, the banner above GraphiQL says how to make a key.
// - Headers stay out of localStorage (tabs and history) unless the server's
//   graphiql_persist_headers is on.
(function () {
  "use strict";

  var HEADERS_SETTLE_MS = 400;
  var DEFAULT_QUERY = [
    "# The Boternity storage API.",
    "# Run a query with Ctrl-Enter (or the pink button);",
    "# Docs (top left) describes every type and field.",
    "# With authentication on, put your key in the",
    "# Headers tab below, then run again:",
    '#   {"Authorization": "Bearer <key>"}',
    "{",
    "  bots(first: 5) {",
    "    totalCount",
    "    nodes {",
    "      slug",
    "      name",
    "    }",
    "  }",
    "}",
    "",
  ].join("\n");

  var root = document.getElementById("graphiql");
  var hint = document.getElementById("auth-hint");
  var persistHeaders = root.dataset.persistHeaders === "true";
  var url = window.location.href.split(/[?#]/)[0];
  var base = GraphiQL.createFetcher({
    url: url,
    subscriptionUrl: url.replace(/^http/, "ws"),
    enableIncrementalDelivery: false,
  });

  function unauthenticated(result) {
    return Boolean(
      result &&
        Array.isArray(result.errors) &&
        result.errors.some(function (error) {
          return error && error.extensions && error.extensions.code === "UNAUTHENTICATED";
        })
    );
  }

  function watched(result) {
    hint.hidden = !unauthenticated(result);
    return result;
  }

  async function* watchedStream(stream) {
    for await (const result of stream) {
      yield watched(result);
    }
  }

  // GraphiQL keeps its tabs and its history in localStorage; its history entries carry the
  // headers even when shouldPersistHeaders is off (GraphiQL 3.8), so unless the server allows
  // persisting them, every value is stored without its "headers" fields.
  function withoutHeaders(value) {
    try {
      return JSON.stringify(JSON.parse(value), function (key, field) {
        return key === "headers" ? undefined : field;
      });
    } catch (notJson) {
      return value; // the query text, the operation name
    }
  }

  var storage = persistHeaders
    ? window.localStorage
    : {
        getItem: function (key) {
          return window.localStorage.getItem(key);
        },
        setItem: function (key, value) {
          window.localStorage.setItem(key, withoutHeaders(value));
        },
        removeItem: function (key) {
          window.localStorage.removeItem(key);
        },
        key: function (index) {
          return window.localStorage.key(index);
        },
        clear: function () {
          window.localStorage.clear();
        },
        get length() {
          return window.localStorage.length;
        },
      };

  // A new fetcher each time: GraphiQL fetches the schema again whenever its fetcher changes.
  function makeFetcher() {
    return function fetcher(params, options) {
      return Promise.resolve(base(params, options)).then(function (result) {
        if (result && typeof result[Symbol.asyncIterator] === "function") {
          return watchedStream(result);
        }
        return watched(result);
      });
    };
  }

  function BoternityGraphiQL() {
    var explorer = React.useMemo(function () {
      return GraphiQLPluginExplorer.explorerPlugin();
    }, []);
    var fetcherState = React.useState(makeFetcher);
    var headersState = React.useState(null);
    var headers = headersState[0];

    React.useEffect(
      function () {
        if (headers === null) {
          return undefined;
        }
        var timer = setTimeout(function () {
          fetcherState[1](makeFetcher);
        }, HEADERS_SETTLE_MS);
        return function () {
          clearTimeout(timer);
        };
      },
      [headers]
    );

    return React.createElement(GraphiQL, {
      fetcher: fetcherState[0],
      plugins: [explorer],
      defaultQuery: DEFAULT_QUERY,
      defaultEditorToolsVisibility: true,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: persistHeaders,
      storage: storage,
      inputValueDeprecation: true,
      onEditHeaders: headersState[1],
    });
  }

  ReactDOM.createRoot(root).render(React.createElement(BoternityGraphiQL));
})();
