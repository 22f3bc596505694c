"""Portal files: for an office that works through payer and clearinghouse portals by hand.

An 835 the payer's portal handed out is posted as a picked-up one is; ready claims are
written as an 837 batch to upload (and marked sent); the 999 and 277CA the portal hands
back move the batch and its claims on. The same stage functions as the command line
(``claimdesk remittances import``, ``claimdesk export 837``, ``claimdesk acks import``):
each checks the person's role again and audits what it did.
"""

from __future__ import annotations

import streamlit as st

from claimdesk.clock import today
from claimdesk.errors import ClaimdeskError
from claimdesk.remittance.file_import import import_remittance_file
from claimdesk.submission import export
from claimdesk.submission.ack_files import import_ack_file
from ui.components import auth
from ui.deps import get_document_store, get_engine, get_settings

# Who posts money by hand and works claims (specialist, lead, manager); checked again below.
user = auth.page_user("task.comment")
engine = get_engine()
st.title("Portal files")
st.caption(
    "For payers and clearinghouses reached through a web portal: post the 835 files they "
    "hand out, export ready claims as an 837 file to upload, and import the 999 and 277CA "
    "files that come back."
)
remits, claims, acks = st.tabs(["835 remittance", "837 claims", "999 / 277CA"])

with remits:
    upload = st.file_uploader("835 file from the payer's portal", key="portal.835")
    payer_id = st.text_input(
        "Payer id (only when the file's sender is a clearinghouse claimdesk does not know)",
        key="portal.835.payer",
    )
    if st.button("Post 835", type="primary", key="portal.835.post", disabled=upload is None):
        assert upload is not None
        try:
            posted = import_remittance_file(
                engine,
                get_document_store(),
                username=user.username,
                data=upload.getvalue(),
                payer_edi_id=payer_id.strip() or None,
            )
        except ClaimdeskError as exc:
            st.error(str(exc))
        else:
            message = (
                f"{len(posted.report.sets)} set(s): {posted.count('posted')} posted, "
                f"{posted.count('duplicate')} seen before (nothing posted), "
                f"{posted.count('exception')} exception(s)."
            )
            (st.success if posted.count("posted") else st.info)(message)
            if posted.report.task_ids:
                st.warning(f"Tasks to work: {list(posted.report.task_ids)} (in the queue).")
            if posted.report.denial_ids:
                st.warning(f"Denials to work: {list(posted.report.denial_ids)}.")

with claims:
    try:
        payers = export.portal_payers(engine, username=user.username)
        earlier = export.recent_exports(engine, username=user.username)
    except ClaimdeskError as exc:
        st.error(str(exc))
        st.stop()
    names = {"": "All payers", **{edi: f"{name} ({edi})" for edi, name in payers}}
    chosen = st.selectbox("Payer", list(names), format_func=names.__getitem__, key="portal.payer")
    if st.button("Export ready claims", type="primary", key="portal.export"):
        try:
            run = export.export_837(
                engine,
                get_settings(),
                get_document_store(),
                username=user.username,
                today=today(get_settings()),
                payer_edi_id=chosen or None,
            )
        except ClaimdeskError as exc:
            st.error(str(exc))
        else:
            if run.held:
                st.warning(f"Held for review (scrub or TR3 errors): claims {run.held}.")
            if not run.batches:
                st.info("Nothing ready to export.")
            else:
                st.success(f"{len(run.batches)} batch(es) written and marked sent.")
                for batch in run.batches:
                    st.download_button(
                        f"Download batch {batch.submission_id} ({batch.payer_edi_id}, "
                        f"{len(batch.claims)} claim(s))",
                        batch.data,
                        file_name=f"837-{batch.payer_edi_id}-{batch.submission_id}.txt",
                        mime="application/edi-x12",
                        key=f"portal.new.{batch.submission_id}",
                    )
                earlier = export.recent_exports(engine, username=user.username)
    st.subheader("Exported batches")
    if not earlier:
        st.caption("None yet.")
    for listing in earlier:
        row = st.columns([3, 1])
        row[0].write(
            f"Batch {listing.submission_id} · {listing.payer_edi_id} · {listing.claims} "
            f"claim(s) · {listing.exported_at[:16].replace('T', ' ')} · {listing.status}"
        )
        key = f"portal.batch.{listing.submission_id}"
        if row[1].button("Prepare download", key=f"{key}.prepare"):
            try:  # reading the batch back is a view of claim data: audited
                batch = export.exported_batch(
                    engine,
                    get_document_store(),
                    username=user.username,
                    submission_id=listing.submission_id,
                )
            except ClaimdeskError as exc:
                st.error(str(exc))
            else:
                st.download_button(
                    "Download 837",
                    batch.data,
                    file_name=f"837-{batch.payer_edi_id}-{batch.submission_id}.txt",
                    mime="application/edi-x12",
                    key=f"{key}.download",
                )

with acks:
    ack = st.file_uploader("999, 277CA or TA1 file from the portal", key="portal.ack")
    if st.button("Import", type="primary", key="portal.ack.import", disabled=ack is None):
        assert ack is not None
        try:
            done = import_ack_file(
                engine,
                get_settings(),
                get_document_store(),
                username=user.username,
                data=ack.getvalue(),
            )
        except ClaimdeskError as exc:
            st.error(str(exc))
        else:
            seen = "" if done.new_file else " (imported before: nothing changed twice)"
            st.success(
                f"{'/'.join(done.kinds)}{seen}: {done.accepted} claim(s) accepted, "
                f"{done.rejected} rejected."
            )
            if done.review_task_ids:
                st.warning(f"Rejections to work: {list(done.review_task_ids)} (in the queue).")
