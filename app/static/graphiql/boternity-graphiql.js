// Starts GraphiQL for the Boternity storage API (loaded by the page app/graphiql.py serves).
//
// - Queries and mutations go to this page's own URL, subscriptions over graphql-transport-ws
//   to the same URL; the Headers tab is sent with both (HTTP headers, connection_init payload).
// - When the headers change, the schema is fetched again with them: a key typed once makes
//   the Docs pane and autocomplete work too, without a manual re-fetch.
// - When the server answers UNAUTHENTICATED, the banner above GraphiQL says how to make a key.
// - Headers stay out of localStorage unless the server's graphiql_persist_headers is on.
(function () {
  "use strict";

  var HEADERS_SETTLE_MS = 400;
  var DEFAULT_QUERY = [
    "# The Boternity storage API. Run a query with Ctrl-Enter; the Docs button (top left)",
    "# describes every type and field. With authentication on, put your key in the Headers",
    '# tab below: {"Authorization": "Bearer <key>"}',
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
      inputValueDeprecation: true,
      onEditHeaders: headersState[1],
    });
  }

  ReactDOM.createRoot(root).render(React.createElement(BoternityGraphiQL));
})();
