"""Following a growing log on a server workspace: reads from an offset vs re-downloading it whole.

One workspace is served over HTTP (``trainyard server``'s app on a thread). A writer appends
``CHUNKS`` pieces of ``CHUNK`` bytes (about 10 MB in all) to a run's log through the server, as an
agent does; after each append a follower polls. trainyard's follower is ``Run.log_text(offset)``
(a ``Range`` request for the new bytes); the baseline re-downloads the whole log every poll with
``get_bytes`` (what a reader without offsets must do, and what the agent's whole-file re-upload
every pass cost on the writing side, shown too). The figures are the bytes each side moved
(response or request bodies) and the seconds it spent, summed over the polls. Every poll's text is
checked against what was written.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import row, scratch_workspace, timer  # noqa: E402

CHUNKS = 100
CHUNK = 100 * 1024  # 100 KB a poll: 10 MB in all
MB = 1024 * 1024


def _bytes_row(name: str, ours: int, baseline_name: str, theirs: int) -> str:
    return (
        f"{name:<46} trainyard {ours / MB:10.1f} MB   "
        f"{baseline_name:<28} {theirs / MB:10.1f} MB   ratio {theirs / ours:8.1f}x"
    )


def main() -> list[str]:
    from trainyard.artifacts.http import HttpArtifactStore
    from trainyard.sdk.run import LOG_FILE, Run
    from trainyard.server.app import create_app
    from trainyard.server.running import ThreadedServer
    from trainyard.workspace import Workspace

    line = b"epoch 1 step 1 loss 0.123456 accuracy 0.987654 lr 0.001\n"
    piece = (line * (CHUNK // len(line) + 1))[:CHUNK]
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        os.environ["TRAINYARD_CACHE_DIR"] = str(tmp / "cache")
        ws = scratch_workspace(tmp)
        app = create_app(ws)
        with ThreadedServer(app) as server:
            app.state.auth.add_user("bench", "contributor")
            os.environ["TRAINYARD_TOKEN"] = app.state.auth.create_token("bench")[0]
            run_id = ws.store.create_run(ws.store.create_experiment("bench").id).id
            key = f"runs/{run_id}/{LOG_FILE}"
            writer, whole = HttpArtifactStore(server.url), HttpArtifactStore(server.url)
            follower = Run(Workspace.from_config(server.url), run_id)
            offset, written = 0, 0
            read_s = whole_s = append_s = upload_s = 0.0
            read_bytes = whole_bytes = upload_bytes = 0
            for i in range(CHUNKS):
                with timer() as t:
                    writer.append(key, piece)
                append_s += t["s"]
                written += len(piece)
                with timer() as t:  # the agent's old way: the whole file again, to another key
                    writer.put_bytes(f"runs/{run_id}/reuploaded.txt", piece * (i + 1))
                upload_s += t["s"]
                upload_bytes += written
                with timer() as t:
                    text, new_offset = follower.log_text(offset)
                read_s += t["s"]
                read_bytes += new_offset - offset
                assert text.encode() == piece and new_offset == written, "the follower lost bytes"
                offset = new_offset
                with timer() as t:
                    data = whole.get_bytes(key)
                    text = data[offset - len(piece) :].decode()
                whole_s += t["s"]
                whole_bytes += len(data)
                assert text.encode() == piece and len(data) == written, "the whole log is not all there"
            app.state.job_queue.stop()
    what = f"{CHUNKS} polls of a log growing to {written / MB:.0f} MB"
    return [
        row(f"follow: {what}", read_s, "re-download each poll", whole_s, unit="ms"),
        _bytes_row("follow: bytes read", read_bytes, "re-download each poll", whole_bytes),
        row(f"write: {CHUNKS} passes of an agent", append_s, "re-upload the whole log", upload_s, unit="ms"),
        _bytes_row("write: bytes sent", written, "re-upload the whole log", upload_bytes),
    ]


if __name__ == "__main__":
    print("\n".join(main()))
