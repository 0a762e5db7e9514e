"""The one table of option choices. Every functional, loss module and metric validates its string
options against an entry here, and the README's conventions table is this table printed
(``python -m torchauc._core.options``; a test keeps the two equal)."""

from typing import NamedTuple


class Option(NamedTuple):
    name: str  # the keyword argument
    choices: tuple
    default: str
    where: str  # which functions take it
    meaning: str


PAIRWISE_SURROGATE = Option(
    "surrogate",
    ("square", "exp", "hinge", "squared_hinge", "logistic", "sigmoid"),
    "square",
    "pairwise_auc_loss, partial_auc_loss, AUCLoss, PartialAUCLoss",
    "pair loss l(m, s_pos - s_neg)",
)
REDUCTION = Option("reduction", ("mean", "sum"), "mean", "pairwise and partial AUC losses", "weighted pair mean or sum")
MULTICLASS_SURROGATE = Option(
    "surrogate",
    ("square", "exp", "hinge", "linear"),
    "square",
    "multiclass_auc_loss, pixel_auc_loss, MultiClassAUCLoss, AUCSegLoss",
    "linear is XCurve/AUCSeg's unclamped 'hinge'",
)
MODE = Option(
    "mode", ("ovo", "ova"), "ovo", "multiclass/pixel losses, multiclass_auroc", "one-vs-one (Hand & Till) or one-vs-all"
)
NORMALIZATION = Option(
    "normalization",
    ("present", "xcurve"),
    "present",
    "multiclass/pixel losses",
    "divide by the classes present, or by all C as XCurve",
)
ACTIVATION = Option(
    "activation", ("none", "sigmoid"), "sigmoid", "pixel_auc_loss, AUCSegLoss", "fused per-class sigmoid of the logits"
)
ROUNDING = Option(
    "rounding",
    ("floor", "ceil", "round"),
    "floor",
    "partial_auc_select/loss",
    "kept count R(max_fpr n-), R((1 - min_tpr) n+)",
)
TPAUC_WEIGHT = Option(
    "weight", ("poly", "exp"), "poly", "RelaxedTPAUCLoss, InsRelaxedPAUCLoss", "soft selection weight of a sample"
)
AUC_TYPE = Option(
    "auc_type", ("OP", "TP"), "TP", "RelaxedTPAUCLoss, InsRelaxedPAUCLoss", "one-way or two-way partial AUC"
)
LIBAUC_SURROGATE = Option(
    "surr_loss", ("squared_hinge", "hinge"), "squared_hinge", "compat.libauc pAUC losses", "LibAUC's pair surrogate"
)
ON_UNDEFINED = Option(
    "on_undefined", ("raise", "nan"), "raise", "every metric", "ValueError, or NaN (averages then skip the term)"
)
AVERAGE = Option(
    "average",
    ("macro", "weighted", "none"),
    "macro",
    "multiclass_auroc, pixel_auroc (multilabel_auroc adds micro)",
    "mean over classes, prevalence-weighted, or per class",
)
MULTILABEL_AVERAGE = AVERAGE._replace(choices=("macro", "weighted", "micro", "none"), where="multilabel_auroc")

TABLE = (
    PAIRWISE_SURROGATE,
    REDUCTION,
    MULTICLASS_SURROGATE,
    MODE,
    NORMALIZATION,
    ACTIVATION,
    ROUNDING,
    TPAUC_WEIGHT,
    AUC_TYPE,
    LIBAUC_SURROGATE,
    ON_UNDEFINED,
    AVERAGE,
)


def markdown_table():
    rows = ["| option | choices (default first) | where | meaning |", "|---|---|---|---|"]
    for o in TABLE:
        ordered = (o.default,) + tuple(c for c in o.choices if c != o.default)
        choices = ", ".join(f"`{c}`" for c in ordered)
        rows.append(f"| `{o.name}` | {choices} | {o.where} | {o.meaning} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(markdown_table())
