"""Node modules of the shopping agent graph: one small async function (plus router) each."""
