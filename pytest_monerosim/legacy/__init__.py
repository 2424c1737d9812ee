"""Reading the existing Monerosim's config format ("legacy") and ``migrate``.

Above :mod:`pytest_monerosim.config` and :mod:`pytest_monerosim.topology`, which
it converts into:

* :mod:`.model` — the upstream format read faithfully and strictly, loaded by
  :mod:`.load` (:func:`~.load.load_legacy`);
* :mod:`.gml` — upstream's GML network graphs and the latencies between them;
* :mod:`.migrate` — the translation into a scenario (:func:`~.migrate.migrate_file`);
* :mod:`.bridge` — recognising a legacy file and loading it as a scenario.

This package module imports nothing, so importing one of its modules stays cheap.
"""
