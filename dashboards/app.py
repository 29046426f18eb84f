"""The wmsight dashboard: `wmsight dashboard` (or `streamlit run dashboards/app.py`).

Reads only the published feeds (`WMSIGHT_FEEDS_DIR`, `latest`), so it never waits on a
running pipeline; decisions go to the decision store beside the warehouse
(`WMSIGHT_DB_PATH`). The pages in views/ are thin: their logic is in the modules
beside this file.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboards.session import start

VIEWS = Path(__file__).with_name("views")

st.set_page_config(page_title="wmsight", page_icon="📦", layout="wide")
context = start()
t = context.t
pages = [
    st.Page(VIEWS / "overview.py", title=t("page_overview"), url_path="overview", default=True),
    st.Page(VIEWS / "customers.py", title=t("page_customers"), url_path="customers"),
    st.Page(VIEWS / "alerts.py", title=t("page_alerts"), url_path="alerts"),
    st.Page(VIEWS / "review.py", title=t("page_review"), url_path="review"),
    st.Page(VIEWS / "accuracy.py", title=t("page_accuracy"), url_path="accuracy"),
    st.Page(VIEWS / "quality.py", title=t("page_quality"), url_path="quality"),
]
st.navigation(pages).run()
