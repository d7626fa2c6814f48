"""The stages of one call's pipeline that `aigw.orchestrator` runs, one module each: the context
(`preparation`), the response cache (`cached_answers`), cost accounting (`accounting`)."""
