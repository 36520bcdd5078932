// The Playground's state, in one place rather than on its DOM nodes: the page's data (the view's
// playground.services.page_data), the models by alias, the saved prompt versions by id, and per column (by the
// column element's id) and per message (by its textarea's id) what the page keeps between events.

export const state = {
  data: { groups: [], parameters: {}, prompt_versions: [], metrics: [], max_columns: 1 },
  models: {},
  versionsById: {},
  urls: { runs: "", run: "", metrics: "" },
  columns: new Map(),
  messages: new Map(),
};

let sequence = 0;

/** The models of the page data's groups by alias, each with its integration's name: {alias: {integration, ...}}. */
export function modelsByAlias(groups) {
  const models = {};
  (groups || []).forEach((group) => {
    group.models.forEach((model) => { models[model.alias] = { integration: group.integration, ...model }; });
  });
  return models;
}

/** Fill the state from the page's data and its URLs ({runs, run, metrics}); returns the state. */
export function initState(data, urls) {
  state.data = data;
  state.models = modelsByAlias(data.groups);
  state.versionsById = {};
  (data.prompt_versions || []).forEach((version) => { state.versionsById[version.id] = version; });
  state.urls = urls;
  state.columns.clear();
  state.messages.clear();
  return state;
}

/** A new id for a page element: "column-3", "message-12". */
export function nextId(prefix) {
  sequence += 1;
  return prefix + "-" + sequence;
}

/**
 * What the page keeps for a column (created on first use): `values` (parameter name -> text typed so far, kept
 * across model switches), `run` (its latest run read), `runId` (the run it follows), `autoScore` (score the run
 * when it succeeds), `scoreKey` ("run:metric" its score box shows) and `scoreState`.
 */
export function columnState(column) {
  let kept = state.columns.get(column.id);
  if (!kept) {
    kept = { values: {}, run: null, runId: null, autoScore: false, scoreKey: null, scoreState: null };
    state.columns.set(column.id, kept);
  }
  return kept;
}

/** Forget a removed column. */
export function forgetColumn(column) {
  state.columns.delete(column.id);
}

/** What a message editor carries besides its role and text: {toolCalls, toolCallId} (null when none). */
export function messageState(id) {
  return state.messages.get(id) || { toolCalls: null, toolCallId: null };
}

/** The alias of the first model not in `exclude`, else the first model's: the model a new column starts with. */
export function nextAlias(models, exclude) {
  const aliases = Object.keys(models);
  return aliases.find((alias) => !exclude.includes(alias)) || aliases[0];
}
