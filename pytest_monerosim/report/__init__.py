"""What a run tells a person: JSON report, baseline envelopes, Allure, plots, progress.

Every module here is imported only when its feature is switched on (see
:mod:`pytest_monerosim.plugin.reporting`), so a plain ``pytest`` run
pays nothing for them.
"""
