"""The live board (services/classlive.py): the state file a student's page fetches follows the
class through a question, its reveal, a model switch and the end of the class, also when the
change is written by another store (another replica); file names do not give class codes
away; the number of classes watched is bounded."""
import time



from services.classlive import LiveBoard
from services.classquiz import QuizStore
from services.classroom import ClassStore, Limits

MAP = {"dataset": "digits", "model_id": "a", "projection": "identity",
       "extent": [-3.0, 3.0, -3.0, 3.0], "n_points": 360}
OTHER_MAP = {**MAP, "model_id": "b"}


def _read(board, snap):
    return (board.directory / snap.name).read_text()


def test_the_state_file_follows_questions_reveals_model_switches_and_the_end(db, tmp_path):
    store = ClassStore(db, limits=Limits(max_students=10))
    code, token = store.open_class(MAP)
    board = LiveBoard(store, QuizStore(store), tmp_path / "live", period_s=60,
                      keep_ended_s=0.0)
    snap = board.watch(code)
    assert code not in snap.name and code.lower() not in snap.name
    assert _read(board, snap) == snap.state and ".r0.v0.e0" in snap.state
    first_key = snap.settings_key

    # the lecturer is on another replica: its own stores on the same database
    other = ClassStore(db)
    quiz = QuizStore(other)
    r = quiz.ask(code, token, "hole-picture", n_options=4, correct=2)
    board.poke()
    snap = board.snapshot(code)
    assert snap.state.endswith(f".r{r.id}.v0.e0") and _read(board, snap) == snap.state
    assert snap.round.id == r.id and snap.round.correct == -1  # not handed out before reveal
    assert snap.settings_key == first_key

    quiz.reveal(code, token, r.id)
    board.poke()
    snap = board.snapshot(code)
    assert snap.state.endswith(f".r{r.id}.v1.e0") and snap.round.correct == 2
    assert _read(board, snap) == snap.state

    other.update_settings(code, token, OTHER_MAP)
    board.poke()
    snap = board.snapshot(code)
    assert snap.settings_key != first_key and snap.settings == OTHER_MAP
    assert _read(board, snap) == snap.state

    other.close(code, token)
    board.poke()
    snap = board.snapshot(code)
    assert snap.ended and snap.settings == {} and snap.state.endswith(".e1")
    assert _read(board, snap) == snap.state  # pages see the end, then the file goes
    board.poke()
    assert board.snapshot(code) is None
    assert not (board.directory / snap.name).exists()


def test_the_thread_picks_up_another_writers_question_without_a_poke(db, tmp_path):
    store = ClassStore(db)
    code, token = store.open_class(MAP)
    board = LiveBoard(store, QuizStore(store), tmp_path / "live", period_s=0.05)
    try:
        snap = board.watch(code)
        r = QuizStore(ClassStore(db)).ask(code, token, "hole-picture", n_options=4, correct=1)
        deadline = time.time() + 20
        while f".r{r.id}." not in _read(board, snap) and time.time() < deadline:
            time.sleep(0.05)
        assert f".r{r.id}.v0" in _read(board, snap)
    finally:
        board.close()
    assert not (tmp_path / "live" / snap.name).exists()


def test_names_are_keyed_per_board_and_watched_classes_are_bounded(tmp_path):
    store = ClassStore(tmp_path / "c.sqlite3")
    codes = [store.open_class(MAP)[0] for _ in range(3)]
    a = LiveBoard(store, QuizStore(store), tmp_path / "a", period_s=60, max_classes=2)
    b = LiveBoard(store, QuizStore(store), tmp_path / "b", period_s=60)
    assert a.name(codes[0]) != b.name(codes[0])  # a per-process key: no guessing from codes
    snaps = [a.watch(c) for c in codes]
    assert a.snapshot(codes[0]) is None and not (a.directory / snaps[0].name).exists()
    assert all((a.directory / s.name).exists() for s in snaps[1:])


def test_without_a_folder_the_board_keeps_snapshots_and_names_no_file(tmp_path):
    store = ClassStore(tmp_path / "c.sqlite3")
    code, token = store.open_class(MAP)
    board = LiveBoard(store, QuizStore(store), None, period_s=60)
    snap = board.watch(code)
    assert snap.name is None and snap.settings == MAP and snap.round is None
    QuizStore(store).ask(code, token, "hole-picture", n_options=4, correct=0)
    board.poke()
    assert board.snapshot(code).round.qid == "hole-picture"
