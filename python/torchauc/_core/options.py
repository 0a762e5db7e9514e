"""The one table of option choices. Every functional, loss module and metric validates its string
options against an entry here, and the README's conventions table is this table printed
(``python -m torchauc._core``; a test keeps the two equal)."""

from typing import NamedTuple


class Option(NamedTuple):
    name: str  # the keyword argument
    choices: tuple  # the first is the default
    where: str  # which functions take it
    meaning: str

    @property
    def default(self):
        return self.choices[0]


def _opt(name, choices, where, meaning):
    return Option(name, tuple(choices.split()), where, meaning)


# fmt: off
PAIRWISE_SURROGATE = _opt("surrogate", "square exp hinge squared_hinge logistic sigmoid",
                          "pairwise and partial AUC losses", "pair loss l(m, s_pos - s_neg)")
REDUCTION = _opt("reduction", "mean sum", "pairwise and partial AUC losses", "weighted pair mean or sum")
MULTICLASS_SURROGATE = _opt("surrogate", "square exp hinge linear", "multiclass/pixel losses and modules",
                            "linear is XCurve/AUCSeg's unclamped 'hinge'")
MODE = _opt("mode", "ovo ova", "multiclass/pixel losses, multiclass_auroc", "one-vs-one (Hand & Till) or one-vs-all")
NORMALIZATION = _opt("normalization", "present xcurve", "multiclass/pixel losses",
                     "divide by the classes present, or by all C as XCurve")
ACTIVATION = _opt("activation", "sigmoid none", "pixel_auc_loss, AUCSegLoss", "fused per-class sigmoid of the logits")
ROUNDING = _opt("rounding", "floor ceil round", "partial_auc_select/loss", "kept R(max_fpr n-), R((1 - min_tpr) n+)")
TPAUC_WEIGHT = _opt("weight", "poly exp", "RelaxedTPAUCLoss (InsRelaxedPAUCLoss: exp)", "soft selection weight")
AUC_TYPE = _opt("auc_type", "TP OP", "RelaxedTPAUCLoss (InsRelaxedPAUCLoss: OP)", "two-way or one-way partial AUC")
LIBAUC_SURROGATE = _opt("surr_loss", "squared_hinge hinge", "compat.libauc pAUC losses", "LibAUC's pair surrogate")
ON_UNDEFINED = _opt("on_undefined", "raise warn nan", "every metric",
                    "ValueError; or NaN with a warning (averages NaN), or silent NaN (averages skip it)")
AVERAGE = _opt("average", "macro weighted none", "pixel_auroc", "mean over classes, prevalence-weighted, or per class")
MULTICLASS_AVERAGE = _opt("average", "macro weighted micro none", "multiclass_auroc (micro: ova only)",
                          "micro: every (sample, class) entry as one binary problem")
MULTILABEL_AVERAGE = _opt("average", "macro weighted micro samples none",
                          "multilabel_auroc, multilabel_average_precision",
                          "samples: mean of each sample's AUROC (AP) over its labels")
AUTKC_SURROGATE = _opt("surrogate", "square exp logistic hinge", "autkc_loss, StandardAUTKCLoss",
                       "l(t) of the top-k margins t = s_y - s_[k] (XCurve: Sq, Exp, Logit, Hinge)")
AUTKC_TERMS = _opt("terms", "k xcurve", "autkc_loss, StandardAUTKCLoss",
                   "sum the K top competitors over K, or XCurve's K + 1 terms over K")
TOPK_HINGE = _opt("loss_type", "l1 l2 l3 l4 l5", "hinge_topk_loss, HingeTopKLoss", "the top-k hinge variant")
TOPK_LABEL = _opt("label", "exclude zero", "hinge_topk_loss l1/l4",
                  "skip the label column, or score it 0 as XCurve does")
OPEN_ODD_BATCH = _opt("odd_batch", "mix drop", "OpenAUCLoss",
                      "odd B: mix the last B // 2 samples, or drop the AUC term as XCurve")
CML_REDUCTION = _opt("reduction", "sum mean", "cml.triplet_loss", "batch sum as the official DPCML/CML code, or mean")
DCRS_REDUCTION = _opt("reduction", "official paper", "cml.dcrs",
                      "per-pair hinges averaged over M K K (code), or hinges of each user's mean distance (paper)")
AUCM_VERSION = _opt("version", "v1 v2", "compat.libauc AUCM losses", "with the class prior p (v1) or without (v2)")
LIBAUC_SEMANTICS = _opt("semantics", "fixed libauc", "compat.libauc AUCM/AP losses and optimizers",
                        "LibAUC 2.0.1's defects fixed, or reproduced (to match published numbers)")
LIBAUC_AP_SURROGATE = _opt("surr_loss", "squared_hinge hinge squared logistic barrier_hinge", "compat.libauc AP losses",
                           "LibAUC's pair surrogate: sort + scan, logistic by a tiled kernel")
SOD_BASE = _opt("base", "bce dice bce+dice", "torchauc.sod si_loss, SILoss",
                "frame loss (or a per-pixel callable); the background term is always MSE")
MAE_DENOMINATOR = _opt("mae_denominator", "natural official", "torchauc.sod si_metrics, SIMetrics",
                       "SI-MAE divisor K + alpha, or the official code's K + 1 + alpha")
ADAUC_FORM = _opt("form", "canonical xcurve", "AdAUCLoss, RegAdAUCLoss", "alpha^2 weight p(1-p), or XCurve's p")
ATTACK_NORM = _opt("norm", "linf l2", "adversarial.pgd", "threat model of the perturbation ball")
ATTACK_TARGET = _opt("target", "probability logit", "adversarial.pgd",
                     "attack the loss of sigmoid(output), or of the raw output as XCurve")
HEAD_TAIL_NORM = _opt("normalization", "batch imbsam count", "optim.split_head_tail",
                      "sums / B (SSE-SAM); tail x2 (ImbSAM repo); per-group means (SSE-SAM's ImbSAM)")
# fmt: on

TABLE = (PAIRWISE_SURROGATE, REDUCTION, MULTICLASS_SURROGATE, MODE, NORMALIZATION, ACTIVATION, ROUNDING,
         TPAUC_WEIGHT, AUC_TYPE, LIBAUC_SURROGATE, ON_UNDEFINED, AVERAGE, MULTICLASS_AVERAGE,
         MULTILABEL_AVERAGE, CML_REDUCTION, DCRS_REDUCTION)  # fmt: skip

DIST_SYNC_MODE = _opt("dist_sync_mode", "sort gather", "exact stateful AUROC metrics",
                      "across ranks: sample sort (O(N/W) per rank) or all_gather of every state")  # fmt: skip
TABLE += (DIST_SYNC_MODE,)
TABLE += (AUCM_VERSION, LIBAUC_SEMANTICS, LIBAUC_AP_SURROGATE)
TABLE += (SOD_BASE, MAE_DENOMINATOR)
TABLE += (ADAUC_FORM, ATTACK_NORM, ATTACK_TARGET, HEAD_TAIL_NORM)
TABLE += (AUTKC_SURROGATE, AUTKC_TERMS, TOPK_HINGE, TOPK_LABEL, OPEN_ODD_BATCH)


def markdown_table():
    rows = ["| option | choices (default first) | where | meaning |", "|---|---|---|---|"]
    for o in TABLE:
        choices = ", ".join(f"`{c}`" for c in o.choices)
        rows.append(f"| `{o.name}` | {choices} | {o.where} | {o.meaning} |")
    return "\n".join(rows)
