"""The Gradio layout and its event wiring: Chat, Gems and Model tabs over one `AppService`.

Only this module imports gradio, and `ui.app` imports it only inside `build_app` (``import ui.app`` stays cheap).
Handlers are plain functions; gradio runs them on worker threads, so the event loop never does the heavy work, and
the queue's ``default_concurrency_limit`` lets several chats run at once across both cores.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import gradio as gr

from index.vocabulary import TASK_BENCHMARKS, TASKS
from ui.app._gems import LICENCE_CHOICES, SIZE_CHOICES, gem_view
from ui.app._model_page import model_page

if TYPE_CHECKING:
    from ui.app._service import AppService

__all__ = ["build_blocks", "EXAMPLES"]

#: example requests offered under the chat box.
EXAMPLES: tuple[str, ...] = (
    "best 7B model for grade-school math",
    "small instruct model under 3B for python code, commercial use",
    "llama-3 8B for medical QA with an apache-2.0 license",
    "which mistral 7B fine-tune is best at reasoning?",
)
_INTRO = (
    "# gemfinder\n"
    "Which open model should you use for a task, under your constraints? Ask in plain words; gemfinder narrows "
    "~22k catalog models to a ranked shortlist with the evidence behind each pick. The **Gems** tab shows, per model "
    "tree, the rarely used models that beat every popular one. Scores are points on a 0–100 scale."
)
_MD_SPECIAL = re.compile(r"([\\`*_\[\]()#!<>|~])")


def _echo(message: Any) -> str:
    """The user's message as shown in the chat: escaped (so a pasted image link loads nothing), cut to 300 chars."""
    text = message if isinstance(message, str) else repr(message)
    shown = text[:300] + (f" … ({len(text):,} characters)" if len(text) > 300 else "")
    shown = "".join(c if c.isprintable() or c in "\n\t" else "�" for c in shown)
    return _MD_SPECIAL.sub(r"\\\1", shown) or "(empty message)"


def build_blocks(service: AppService) -> gr.Blocks:
    """The app's `gr.Blocks` (not yet queued or launched).

    Args:
        service: the loaded back end (call `AppService.warm` first so the first message is fast).

    Returns:
        The Blocks, with the chat endpoint at ``api_name="chat"`` (inputs: message, history, budget text) and
        the model page at ``api_name="model_page"``.
    """
    with gr.Blocks(title="gemfinder", analytics_enabled=False) as demo:
        gr.Markdown(_INTRO)
        with gr.Tabs() as tabs:
            with gr.Tab("Chat", id="chat"):
                chat = _chat_tab(service)
            with gr.Tab("Gems", id="gems"):
                gems_table = _gems_tab(service)
            with gr.Tab("Model", id="model"):
                model_id, page, card = _model_tab(service)

        def open_pick(evt: gr.SelectData):
            return _open_row(service, evt, column=1)

        def open_gem(evt: gr.SelectData):
            return _open_row(service, evt, column=0)

        outputs = [model_id, page, card, tabs]
        chat.select(open_pick, None, outputs, api_name=False)
        gems_table.select(open_gem, None, outputs, api_name=False)
    return demo


def _open_row(service: AppService, evt: gr.SelectData, *, column: int):
    """A clicked table row → the model page of the id in `column`, and switch to the Model tab."""
    row = evt.row_value or []
    target = str(row[column]) if len(row) > column else ""
    shown = model_page(service, target)
    return target, shown.summary, shown.card_text, gr.Tabs(selected="model")


def _chat_tab(service: AppService):
    chatbot = gr.Chatbot(label="gemfinder", height=380, elem_id="chatbot", buttons=["copy"])
    with gr.Row():
        message = gr.Textbox(placeholder="e.g. best 7B model for grade-school math with an apache-2.0 license",
                             show_label=False, scale=6, elem_id="chat-input", max_lines=4, submit_btn=False)
        budget = gr.Textbox(label="evaluation budget (queries)", placeholder="optional, e.g. 500", scale=2,
                            max_lines=1, elem_id="budget")
        send = gr.Button("Ask", variant="primary", scale=1, elem_id="ask")
    with gr.Accordion("your own questions (optional)", open=False):
        own = gr.File(label="a JSONL file, one {\"question\": ..., \"answer\": ...} per line: the candidates that "
                            "run on this machine are evaluated on it", file_types=[".jsonl"], type="filepath",
                      elem_id="questions-file")
    gr.Examples(list(EXAMPLES), inputs=message, label="try")
    results = gr.Dataframe(label="Picks: click a column header to sort, a row to open its model page",
                           interactive=False, wrap=True, elem_id="results", max_height=560)

    session = gr.State(None)  # this browser session's ChatSession (follow-ups refine its last answer)

    def respond(text, history, budget_value, questions_file, chat_session):
        chat_session = chat_session or service.new_session()
        history = list(history or []) + [{"role": "user", "content": _echo(text)}]
        yield history + [{"role": "assistant", "content": "…"}], gr.skip(), "", chat_session
        for update in service.chat(text, budget=budget_value, session=chat_session, questions_file=questions_file):
            table = update.table if update.table is not None else gr.skip()
            yield history + [{"role": "assistant", "content": update.markdown()}], table, "", chat_session

    inputs, outputs = [message, chatbot, budget, own, session], [chatbot, results, message, session]
    # A message sent while the previous answer is still streaming runs after it (gradio's default for a click,
    # "once", would drop it without a word).
    send.click(respond, inputs, outputs, api_name="chat", trigger_mode="always_last")
    message.submit(respond, inputs, outputs, api_name=False, trigger_mode="always_last")
    return results


#: the picks table scrolls sideways rather than squeezing a column to a letter per line: its columns (the "known
#: <benchmark>" ones vary by task, so no static list of widths fits every table) keep a minimum width.
CSS = """
#results th, #results td { min-width: 96px; }
#results th:first-child, #results td:first-child { min-width: 44px; }
#results th:nth-child(2), #results td:nth-child(2) { min-width: 280px; }
#results th:last-child, #results td:last-child { min-width: 400px; }
"""


def _gems_tab(service: AppService):
    index = service.gem_index
    first = gem_view(index, task="math", benchmark="gsm8k", size="any size", licence="any licence",
                     min_models=20, tree="mistral-7b")
    gr.Markdown("A **model tree** is one base model's fine-tunes, merges and quantisations (family + size, e.g. "
                "`mistral-7b`). A **hidden gem** is not among the tree's top 1% by popularity, is in its top 1% by "
                "score, and beats every popular model of the tree (the Hidden Gems paper's definition).")
    with gr.Row():
        task = gr.Dropdown(list(TASKS), value="math", label="task", elem_id="gems-task")
        benchmark = gr.Dropdown(list(TASK_BENCHMARKS["math"]), value=first.benchmark, label="benchmark")
        size = gr.Dropdown(list(SIZE_CHOICES), value="any size", label="size (tree median)")
        licence = gr.Dropdown(list(LICENCE_CHOICES), value="any licence", label="licence (gems shown)",
                              elem_id="gems-licence")
        min_models = gr.Slider(5, 200, value=20, step=5, label="smallest tree (models)")
    tree = gr.Dropdown(_tree_choices(first.trees), value=first.tree, label="tree plotted", elem_id="gems-tree")
    summary = gr.Markdown(first.summary, elem_id="gems-summary")
    plot = gr.Plot(first.figure, label="score vs popularity", elem_id="gems-plot")
    table = gr.Dataframe(first.table, label="hidden gems of the listed trees (click a row to open its page)",
                         interactive=False, elem_id="gems-table", max_height=420)

    def refresh(task_v, benchmark_v, size_v, licence_v, min_v, tree_v):
        view = gem_view(index, task=task_v, benchmark=benchmark_v, size=size_v, licence=licence_v,
                        min_models=int(min_v), tree=tree_v)
        return (gr.Dropdown(choices=list(TASK_BENCHMARKS[task_v]), value=view.benchmark),
                gr.Dropdown(choices=_tree_choices(view.trees), value=view.tree),
                view.summary, view.figure, view.table)

    inputs = [task, benchmark, size, licence, min_models, tree]
    outputs = [benchmark, tree, summary, plot, table]
    for control in inputs:
        # `input` (not `change`) fires only on a person's edit, so refresh's own updates do not loop back.
        control.input(refresh, inputs, outputs, api_name=False)
    return table


def _tree_choices(trees: dict[str, int]) -> list[tuple[str, str]]:
    return [(f"{name} ({k:,} models)", name) for name, k in trees.items()]


def _model_tab(service: AppService):
    with gr.Row():
        model_id = gr.Textbox(label="model id (org/name)", scale=5, elem_id="model-id")
        show = gr.Button("Open", scale=1)
    first = model_page(service, None)
    page = gr.Markdown(first.summary, elem_id="model-page")
    card = gr.Textbox(label="card text (shown as plain text; \"card from\" above says where it comes from)", lines=14,
                      interactive=False, elem_id="model-card")

    def open_page(text):
        shown = model_page(service, text)
        return shown.summary, shown.card_text

    show.click(open_page, model_id, [page, card], api_name="model_page")
    model_id.submit(open_page, model_id, [page, card], api_name=False)
    return model_id, page, card
