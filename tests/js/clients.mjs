// The README's client snippets (written to ./readme/ by tests/clients/test_node_clients.py, with
// the server's URL and a write key in place of the placeholders), run against a real server.
// Prints one JSON object: check name -> what the client saw.
// Environment: GRAPHQL_URL, READ_KEY, BOT_ID.
import { CombinedGraphQLErrors } from "@apollo/client/errors";
import { gql } from "@apollo/client";

const url = process.env.GRAPHQL_URL;
const readKey = process.env.READ_KEY;
const botId = process.env.BOT_ID;

// Every request any client sends: method and Content-Type, to show which transport it used.
const sent = [];
const realFetch = globalThis.fetch;
globalThis.fetch = (input, init = {}) => {
  const headers = new Headers(init.headers);
  sent.push(`${init.method ?? "GET"} ${headers.get("content-type")?.split(";")[0] ?? "-"}`);
  return realFetch(input, init);
};

async function lastRequest(run) {
  const before = sent.length;
  const value = await run();
  return { value, sent: sent.slice(before) };
}

function apolloError(error) {
  return {
    combined: CombinedGraphQLErrors.is(error),
    errors: (error.errors ?? []).map((each) => [each.message, each.extensions?.code]),
  };
}

async function apolloTry(run) {
  try {
    return { data: (await run()).data };
  } catch (error) {
    return apolloError(error);
  }
}

const COUNT = gql`query Count { bots(first: 1) { totalCount } }`;
const results = {};

// Apollo Client 4, POST
{
  const { client } = await import("./readme/apollo.mjs");
  results.apolloQuery = await lastRequest(() => apolloTry(() => client.query({ query: COUNT })));
  results.apolloValidation = await apolloTry(() =>
    client.query({ query: gql`query Bad { bots(first: 1) { nope } }` }),
  );
  const broken = gql`query Broken { bots(first: 1) { totalCount } }`;
  broken.definitions[0].selectionSet.selections[0].selectionSet.selections[0].name.value =
    "totalCount }"; // printed as is: the server cannot parse it
  results.apolloParse = await apolloTry(() => client.query({ query: broken }));
  results.apolloVariables = await apolloTry(() =>
    client.query({
      query: gql`query Page($n: Int!) { bots(first: $n) { totalCount } }`,
      variables: { n: "ten" },
    }),
  );
  results.apolloNoKey = await apolloTry(() =>
    client.query({ query: gql`query NoKey { bots(first: 2) { totalCount } }`, context: { headers: { Authorization: "" } } }),
  );
  results.apolloReadKeyMutation = await apolloTry(() =>
    client.mutate({
      mutation: gql`mutation Create { createBot(input: {name: "Read"}) { id } }`,
      context: { headers: { Authorization: `Bearer ${readKey}` } },
    }),
  );
  const many = Array.from({ length: 40 }, (_, i) => `a${i}: bots(first: 1) { totalCount }`);
  results.apolloTooComplex = await apolloTry(() =>
    client.query({ query: gql(`query Many { ${many.join(" ")} }`), fetchPolicy: "network-only" }),
  );
  results.apolloTooLarge = await apolloTry(() =>
    client.mutate({
      mutation: gql`mutation Big($b: ID!, $v: JSON) { setKv(botId: $b, key: "big", value: $v) { key } }`,
      variables: { b: botId, v: "x".repeat(70000) },
    }),
  );
}

// Apollo Client 4, queries over GET
{
  const { client } = await import("./readme/apollo-get.mjs");
  results.apolloGetQuery = await lastRequest(() => apolloTry(() => client.query({ query: COUNT })));
  results.apolloGetValidation = await lastRequest(() =>
    apolloTry(() => client.query({ query: gql`query BadGet { nope }` })),
  );
  results.apolloGetMutation = await lastRequest(() =>
    apolloTry(() =>
      client.mutate({
        mutation: gql`mutation SetViaGetLink($b: ID!) { setKv(botId: $b, key: "via", value: 1) { key } }`,
        variables: { b: botId },
      }),
    ),
  );
}

// Apollo Client 4, uploads
{
  const { client } = await import("./readme/apollo-upload.mjs");
  results.apolloUpload = await lastRequest(() =>
    apolloTry(() =>
      client.mutate({
        mutation: gql`mutation Up($b: ID!, $f: Upload!) { uploadFile(botId: $b, filename: "notes.txt", file: $f) { filename sizeBytes } }`,
        variables: { b: botId, f: new File(["hello"], "notes.txt", { type: "text/plain" }) },
      }),
    ),
  );
}

// urql: GET by default, POST when asked
{
  const { client } = await import("./readme/urql.mjs");
  const query = "query UrqlCount { bots(first: 1) { totalCount } }";
  const shape = (result) =>
    result.error
      ? { errors: result.error.graphQLErrors.map((e) => [e.message, e.extensions?.code]) }
      : { data: result.data };
  results.urqlGet = await lastRequest(async () => shape(await client.query(query, {}).toPromise()));
  results.urqlPost = await lastRequest(async () =>
    shape(await client.query(query, {}, { preferGetMethod: false, requestPolicy: "network-only" }).toPromise()),
  );
  results.urqlError = await lastRequest(async () =>
    shape(await client.query("query UrqlBad { nope }", {}).toPromise()),
  );
}

// Relay's network layer
{
  const { network } = await import("./readme/relay.mjs");
  const params = {
    id: null,
    cacheID: "RelayCount",
    name: "RelayCount",
    operationKind: "query",
    text: "query RelayCount { bots(first: 1) { totalCount } }",
    metadata: {},
  };
  results.relay = await network.execute(params, {}, {}).toPromise();
}

// graphql-request
{
  const { client } = await import("./readme/graphql-request.mjs");
  results.graphqlRequest = await client.request("query { bots(first: 1) { totalCount } }");
  try {
    await client.request("query($n: Int!) { bots(first: $n) { totalCount } }", { n: 0 });
    results.graphqlRequestError = "no error";
  } catch (error) {
    results.graphqlRequestError = {
      status: error.response.status,
      errors: error.response.errors.map((e) => [e.message, e.extensions?.code]),
    };
  }
}

// plain fetch
{
  const { graphql } = await import("./readme/fetch.mjs");
  results.fetch = await graphql("query($b: ID!) { bot(id: $b) { name } }", { b: botId });
  results.fetchError = await graphql("{ nope }");
}

// graphql-ws: subscribe, then write until the event arrives (the server registers the
// subscription asynchronously)
{
  const { client } = await import("./readme/graphql-ws.mjs");
  const { graphql } = await import("./readme/fetch.mjs");
  const events = client.iterate({
    query: "subscription($b: ID!) { kvChanged(botId: $b) { key deleted entry { value } } }",
    variables: { b: botId },
  });
  const first = events.next();
  let event = null;
  for (let attempt = 0; attempt < 50 && event === null; attempt++) {
    await graphql('mutation($b: ID!, $v: JSON) { setKv(botId: $b, key: "live", value: $v) { key } }', {
      b: botId,
      v: "on",
    });
    event = await Promise.race([first, new Promise((resolve) => setTimeout(() => resolve(null), 200))]);
  }
  results.graphqlWs = event && event.value;
  await events.return();
  await client.dispose();
}

console.log(JSON.stringify(results));
process.exit(0);
