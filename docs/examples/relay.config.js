// relay-compiler configuration (https://relay.dev) for a front-end project using this API. It
// follows the Relay conventions (Node, global ids, cursor connections), so the compiler takes the
// committed schema as is: copy src/portal/schema/schema.graphql into the project as
// schema.graphql (or fetch it in your build), then run `npx relay-compiler`.
module.exports = {
  src: './src',
  schema: './schema.graphql',
  language: 'typescript',
  artifactDirectory: './src/__generated__',
  customScalarTypes: {
    DateTime: 'string',
    Date: 'string',
    JSON: 'unknown',
  },
};
