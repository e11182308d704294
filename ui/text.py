"""Every explanation the app shows, in one place so they can be reviewed together.

Each page's text is three to six sentences; formulas are LaTeX strings for ``st.latex``.
"""
from __future__ import annotations

from dataclasses import dataclass

HOME = """
An **autoencoder** squeezes an image through a narrow **bottleneck** and tries to rebuild it.
The **encoder** maps an image *x* to a short **latent code z**; the **decoder** maps z back to
an image *x̂* (a sigmoid keeps every pixel in [0, 1]). Training minimises the
**reconstruction error** between x and x̂, so z must keep what matters about the image.
A **variational autoencoder (VAE)** encodes each image as a Gaussian, a mean **μ** and a
log-variance **log σ²**, and adds a **KL term** that pulls those Gaussians towards the prior
N(0, I): its latent space becomes smooth enough to sample new images from.
"""

PAGES = {
    "pages/1_Latent_map.py": ("Latent map", ":material/scatter_plot:",
                              "Every test image as a point in latent space. Click a point to "
                              "see it, its reconstruction and the error; click empty space to "
                              "decode a place no image sits."),
    "pages/2_Interpolate.py": ("Interpolate", ":material/timeline:",
                               "Morph one image into another by walking a straight (lerp) or "
                               "curved (slerp) path between their codes."),
    "pages/3_Sample_prior.py": ("Sample the prior", ":material/casino:",
                                "Draw new codes at random and decode them; see where they land "
                                "and decode a whole grid of the latent space."),
    "pages/4_Train.py": ("Train", ":material/model_training:",
                         "Train your own AE or VAE live: change one knob (latent size, β, noise, "
                         "dropout, loss) and watch the curves and reconstructions."),
    "pages/5_AE_vs_VAE.py": ("AE vs VAE", ":material/compare:",
                             "The punchline: the same data through a plain AE and a VAE, side "
                             "by side, with numbers that show whose latent space has holes."),
    "pages/6_Anomalies.py": ("Anomalies", ":material/report:",
                             "Rank test images by reconstruction error; a model that never saw "
                             "a 7 flags the 7s."),
    "pages/7_Denoising.py": ("Denoising", ":material/auto_fix_high:",
                             "Corrupt an image and compare a plain AE with a denoising AE."),
    "pages/8_AE_vs_PCA.py": ("AE vs PCA", ":material/stacked_line_chart:",
                             "Two numbers per image either way: the nonlinear autoencoder beats "
                             "PCA, the linear one."),
    "pages/9_Classroom.py": ("Classroom", ":material/groups:",
                             "Run a lesson with the whole class: students join with a short "
                             "code and every click of theirs appears live on your map."),
    "pages/12_Activations.py": ("Activations", ":material/show_chart:",
                                "The same AE with ReLU, leaky ReLU, tanh, sigmoid and GELU: "
                                "how fast each learns and how smooth its reconstructions are."),
    "pages/13_Deep_AE.py": ("Deep AE", ":material/layers:",
                            "Eight sigmoid layers: the vanishing gradient made visible, and "
                            "two fixes: layer-wise pretraining and ReLU + BatchNorm."),
    "pages/14_Tabular.py": ("Tabular", ":material/table_chart:",
                            "Autoencoders work on any numeric data: an AE trained on benign "
                            "breast-cancer cases only flags malignant ones by reconstruction "
                            "error."),
    "pages/15_Semi_supervised.py": ("Semi-supervised", ":material/label:",
                                    "With only a few labels, a classifier on a VAE's codes "
                                    "against one on raw pixels and on PCA (Kingma et al. 2014, "
                                    "M1)."),
    "pages/10_Bottleneck.py": ("Bottleneck size", ":material/compress:",
                               "How big should z be? A sweep from 2 to 128, the copy test on "
                               "inputs that are not digits, and the fixes an overcomplete AE "
                               "needs."),
    "pages/11_Posterior_collapse.py": ("Posterior collapse", ":material/bar_chart:",
                                       "The KL of each latent dimension and the active units: "
                                       "a large β switches dimensions off; do KL annealing and "
                                       "free bits keep them?"),
    "pages/16_IWAE_bound.py": ("IWAE bound", ":material/trending_up:",
                               "Tighten the ELBO with importance sampling: the bound L_k rises "
                               "towards log p(x) as the samples per image grow."),
    "pages/17_Draw_your_own.py": ("Draw your own", ":material/draw:",
                                  "Draw a digit: see its code on the map, a VAE's posterior "
                                  "ellipse and samples, and whether the model calls it an "
                                  "anomaly."),
    "pages/18_Watch_it_learn.py": ("Watch it learn", ":material/animation:",
                                   "Replay training epoch by epoch: watch the test codes move "
                                   "and the clusters form."),
}

LATENT_MAP = """
Each dot is one **test image**, placed at its latent code z (for a VAE, the mean μ of its
posterior). When z has two dimensions the map *is* the latent space; with more, a
**projection** (PCA, UMAP or t-SNE) flattens it to 2-D. Images of the same digit usually land
together even though the model never saw a label. Click a dot to compare the image with its
**reconstruction** decoder(encoder(x)); click **empty space** to ask the decoder what it makes
at a place no image was encoded to. Far from every training code lies a **hole**: the decoder
was never trained there, and a plain AE often draws nonsense in it.
"""

FORMULA_AE = r"\hat{x} = \mathrm{dec}(\mathrm{enc}(x)),\qquad \mathcal{L}_{\text{BCE}} = -\sum_{i}\big[x_i \log \hat{x}_i + (1 - x_i)\log(1-\hat{x}_i)\big]"
FORMULA_MSE = r"\mathcal{L}_{\text{MSE}} = \sum_i (x_i - \hat{x}_i)^2"
FORMULA_ELBO = r"\log p(x) \ge \mathrm{ELBO} = \mathbb{E}_{q(z\mid x)}\big[\log p(x\mid z)\big] - \beta\,\mathrm{KL}\big(q(z\mid x)\,\|\,\mathcal{N}(0, I)\big)"
FORMULA_KL = r"\mathrm{KL} = -\tfrac{1}{2}\sum_{j=1}^{d}\big(1 + \log\sigma_j^2 - \mu_j^2 - \sigma_j^2\big)"
FORMULA_REPARAM = r"z = \mu + \sigma \odot \varepsilon,\qquad \varepsilon \sim \mathcal{N}(0, I)"

# caption under the latent map, per projection method
INVERSE_NOTES = {
    "identity": "The map is the 2-D latent space itself, so a click gives z exactly.",
    "pca": ("PCA inverse: z is exact within the plane of the first two principal components; "
            "every other component is set to its mean over the test codes."),
    "tsne": ("t-SNE has no inverse: a click on empty space snaps to the nearest test image's "
             "code."),
    "umap": ("UMAP has no exact inverse: a click decodes the distance-weighted mean of the codes "
            "of the 10 test images nearest on the map (measured closer to the true codes than "
            "umap-learn's own inverse_transform)."),
}

# the decoded panel of a click on empty space, per projection method ("{i}": snapped image)
CLICK_NOTES = {
    "identity": "Exact: on a 2-D latent the map location is the code z.",
    "pca": ("PCA: exact within the plane of the first two principal components; the other "
            "components are at their mean, so detail along them is lost."),
    "umap": ("UMAP inverse: a weighted mean of the codes of the 10 test images nearest to this "
            "spot on the map, an approximation of the code that would land here."),
    "tsne": ("t-SNE has no inverse: this click snapped to the nearest test image on the map "
             "(image {i}) and decodes its code."),
}
FAR_NOTE = {  # under the map, by what its shaded cells mean
    True: ("Shaded cells are holes: codes far from every code the decoder was trained on (the "
           "same test as the panel's and the scoreboard's). Move the pointer into one and "
           "watch the image."),
    False: ("Shaded cells: no test image lies near; the pointer decodes there too, but the map "
            "says little about which code belongs there."),
}
FAR_CLICK = ("No test image lies near this spot on the map, so the code above is a guess "
             "built from the nearest ones.")

HOLE_WARNING = ("A hole: z lies {score:.1f} times the typical gap between training codes from "
                "the nearest code the decoder was trained on (a hole is above {threshold:g}), so "
                "the decoder has never been trained here.")
NOT_A_HOLE = ("Not a hole: z lies {score:.1f} times the typical gap between training codes from "
              "the nearest one (a hole is above {threshold:g}): the decoder has seen codes "
              "like this one.")

UNITS = {"bce": "nats", "mse": "squared error"}

INTERPOLATE = """
Pick two test images **A** and **B**; the page encodes both and walks from z_A to z_B in a few
steps, decoding every stop. **Linear interpolation (lerp)** follows the straight line; **spherical
interpolation (slerp)** follows the great circle between the two directions, which keeps the
norm of z typical of a Gaussian prior. If the decoder makes a believable image at every step,
the latent space is **smooth** along that path; if an intermediate frame turns into a blur or a
different shape, the path crossed a **hole**. Compare a plain AE with a VAE on the same pair.
"""

FORMULA_LERP = r"z(t) = (1 - t)\,z_A + t\,z_B,\qquad t \in [0, 1]"
FORMULA_SLERP = r"\hat z(t) = \frac{\sin((1-t)\Omega)\,\hat z_A + \sin(t\Omega)\,\hat z_B}{\sin\Omega},\quad \cos\Omega = \hat z_A\cdot\hat z_B,\quad z(t) = \big((1-t)\lVert z_A\rVert + t\lVert z_B\rVert\big)\,\hat z(t)"

INTERP_COMPARE = ("Same two images, same number of steps, two models. A VAE's path usually "
                  "changes gradually; a plain AE's often jumps or passes through blurs.")

SAMPLE_PRIOR = """
A **generative** model can make new images: draw a code z at random and decode it. A **VAE**
was trained so that its codes follow the **prior** N(0, I), so z ~ N(0, I) lands where the
decoder has been trained, and the **temperature** scales the spread (below 1: safer, more
typical images; above 1: more varied, more failures). A **plain AE** has no prior: here we
sample a Gaussian fitted to its training codes, which still lands in holes between the clusters
— that is why an AE is no generator. The **latent manifold** decodes a whole regular grid of
codes at once, showing how images change across the space.
"""

MANIFOLD_NOTE = {
    "vae2": ("Grid through the inverse normal CDF: equal-probability steps under the prior "
             "N(0, I), as in Kingma & Welling (2013), figure 4."),
    "ae2": "Grid evenly spaced over the range of the test codes.",
    "proj": "Grid across the map's plane, mapped back to latent codes by the map's inverse.",
    "proj_knn": ("Grid across the UMAP map, each node decoded from the distance-weighted mean "
                 "of the codes of the 10 test images nearest to it on the map (UMAP has no "
                 "exact inverse)."),
    "proj_snap": ("Grid across the t-SNE map. t-SNE has no inverse, so each node decodes the "
                  "code of the test image nearest to it on the map: repeated tiles are the "
                  "same image."),
}

FORMULA_SAMPLING = (r"z \sim \mathcal{N}(0,\, T^2 I)\ \text{(VAE)},\qquad z \sim "
                    r"\mathcal{N}(\bar z,\, T^2\,\Sigma_{\text{train}})\ \text{(AE)}")

AE_NOT_GENERATOR = ("A plain AE is no generator: nothing in its training asked its codes to "
                    "follow any distribution, so they form clusters with empty gaps that no "
                    "Gaussian describes. Many samples from the fitted Gaussian land in those "
                    "gaps, where the decoder was never trained, and decode to blots or hybrids.")

# caption under a latent map with extra codes drawn on it (interpolation path, prior samples)
PLACED_NOTE = {
    True: "Drawn exactly where the codes lie.",
    False: ("This projection cannot place new codes exactly: each one is drawn at the "
            "distance-weighted mean position of its 10 nearest test codes."),
}

TRAIN = """
Change one knob and train: the class watches the model learn. The **encoder** and **decoder**
are small neural networks; each **epoch** shows every training image once, and the optimiser
(Adam) nudges the weights to lower the loss. The **latent size** decides how hard the bottleneck
squeezes (undercomplete) or whether it could just copy (overcomplete); **β** weighs the KL term
of a VAE, and **KL annealing** starts it at zero so the decoder first learns to reconstruct. A
**denoising AE** sees corrupted inputs but must output the clean image; **dropout** and **weight
decay** regularise. Watch the test loss: if it rises while the training loss falls, the model
is overfitting.
"""

DIVERGED = ("Training stopped: {message}. Each step moved the weights so far that the loss "
            "blew up instead of going down (a learning rate that is too large overshoots the "
            "valley it should descend into), so nothing was saved. Start again with a smaller "
            "learning rate.")

FORMULA_ANNEAL = r"\beta_t = \beta\cdot w(t),\qquad w_{\text{linear}}(t) = \min\!\Big(1, \frac{t+1}{k}\Big),\qquad w_{\text{cyclical}}(t) = \min\!\Big(1, \frac{(t \bmod k) + 1}{\lceil k/2 \rceil}\Big)"
FORMULA_DAE = r"\tilde{x} = \mathrm{corrupt}(x),\qquad \mathcal{L} = \mathcal{L}_{\text{recon}}\big(x,\ \mathrm{dec}(\mathrm{enc}(\tilde{x}))\big)"

# caption of the Train page's fixed test batch; key: does the model see corrupted inputs?
TRAIN_PREVIEW = {
    False: "Top: fixed test images. Bottom: their reconstructions after epoch {epoch}.",
    True: ("Top: fixed test images. Middle: the corrupted copies the denoising AE is given. "
           "Bottom: what it makes of them after epoch {epoch}."),
}
TRAIN_CLI_NOTE = ("The same run from a terminal (`aecore.recipes.train_and_save` in a notebook "
                  "does the same): same seed and thread count, the same weights bit for bit.")
TRAIN_MAP_NOTE = {
    "identity": "each test image at its 2-D code z; colours are the labels the model never saw",
    "pca": ("each test image's code, flattened to 2-D by PCA; colours are the labels the model "
            "never saw; save it to see UMAP and t-SNE maps on the Latent map page"),
}

AE_VS_VAE = """
Both models squeeze the same images through the same bottleneck; only the VAE adds the
**KL term** that pulls every posterior q(z|x) towards the prior N(0, I). Click an image in either
map: it is highlighted in both, with both reconstructions. The plain AE usually reconstructs a
little better (it spends nothing on the KL term), but nothing stops its codes from spreading out
with **gaps** between clusters, where the decoder was never trained. The VAE packs its codes
around the origin, so its latent space is meant to be **smooth** and to be sampled. The
scoreboard below measures whether that holds for the two models you picked.
"""

DIGITS = 2  # decimals of every number of the scoreboard and of the sentences about it

# The scoreboard's verdict on holes, written from the numbers of the selected pair.
HOLES_VERDICT = {
    "fewer": ("**Holes:** {few_pct} of {few}'s random codes land in a hole, against {many_pct} of "
              "{many}'s: {many}'s latent space has more gaps between its codes, and more of its "
              "random codes fall where its decoder was never trained; look for hybrids and blots "
              "among the prior samples below."),
    "same": ("**Holes:** {left} and {right} put about the same share of random codes in a hole "
             "({left_pct} and {right_pct}): on these two models the lesson does not show."),
}


@dataclass(frozen=True)
class Metric:
    """How the scoreboard shows one metric of :class:`aecore.metrics.Scoreboard`."""

    label: str
    better: str  # "low", "high", or "none" (a cost, not a score: no winner)
    meaning: str  # one plain line
    formula: str  # LaTeX


# scoreboard key -> Metric
METRICS = {
    "recon": Metric("Reconstruction error", "low", "How far x̂ is from x (nats per image).",
                    r"\frac{1}{N}\sum_n \mathrm{BCE}(x_n, \hat x_n)"),
    "kl": Metric("KL (nats/image)", "none",
                 "How far the posteriors are from the prior (0 for an AE): a cost, not a score.",
                 FORMULA_KL),
    "path_ratio": Metric("Interpolation path ratio", "low",
                         "Detour of decoded frames along straight latent lines; 1 = perfectly even.",
                         r"\operatorname{mean}_{pairs} \frac{\sum_k \lVert f_{k+1}-f_k\rVert}{\lVert f_K - f_0\rVert}"),
    "jump_ratio": Metric("Interpolation jump ratio", "low",
                         "Largest step vs mean step along the path; 1 = no sudden jumps.",
                         r"\operatorname{mean}_{pairs} \frac{\max_k \lVert f_{k+1}-f_k\rVert}{\operatorname{mean}_k \lVert f_{k+1}-f_k\rVert}"),
    "hole_rate": Metric("Hole rate", "low",
                        "Share of random codes far from every code the decoder was trained on (a hole).",
                        r"\frac{1}{S}\sum_s \Big[\frac{\min_i \lVert z_s - z_i\rVert}{\operatorname{median}_i \min_{j\ne i}\lVert z_i - z_j\rVert} > 2\Big],\; z_s \sim p(z)"),
    "knn_accuracy": Metric("Latent 5-NN accuracy", "high",
                           "How well classes separate in z, though labels were never used.",
                           r"\text{accuracy of a 5-nearest-neighbour classifier on } z"),
    "trustworthiness": Metric("Map trustworthiness", "high",
                              "Whether neighbours on the 2-D map are neighbours in z (k = 10).",
                              r"T(k) = 1 - \tfrac{2}{nk(2n-3k-1)}\sum_i\sum_{j \in U_k(i)} (r(i,j) - k)"),
}

BETA_SWEEP = """
**β** weighs the KL term (the same 2-D VAE trained four times). With β = 0.1 the model behaves
almost like a plain AE: sharp reconstructions, codes spread wider. β = 1 is the true ELBO. At
β = 2 every nat of information in z costs twice as much, so the codes squeeze together, classes
start to merge and samples blur. At β = 4 the pull towards N(0, I) wins outright on these small
8×8 digits: every posterior collapses onto the prior (KL ≈ 0), all codes sit at the origin and
the decoder draws one average blob whatever the input: **posterior collapse**.
"""

ANOMALIES = """
An autoencoder learns to rebuild what it has seen. An image unlike the training data is
rebuilt badly, so its **reconstruction error** is a natural **anomaly score**: set a threshold,
and everything above it is flagged. Below, the histogram shows the error of every test image,
the flagged ones are circled in red on the map, and the gallery shows the worst. Then a cleaner
experiment: an AE trained on every digit **except 7** scores the test set, and the ROC curve shows
how well its error alone tells the 7s apart.
"""

DENOISING = """
A **denoising autoencoder** is trained on corrupted inputs (Gaussian noise, salt-and-pepper or
masked pixels) with the **clean** image as the target, so it must learn what digits look like
rather than copy pixels (Vincent et al., 2008). A plain AE, trained on clean images only, tends
to reproduce part of the noise. **PSNR** (peak signal-to-noise ratio, in dB; higher is better)
measures how close each output is to the clean image.
"""

FORMULA_PSNR = r"\mathrm{PSNR}(x, y) = 10\log_{10}\frac{1}{\tfrac{1}{D}\sum_i (x_i - y_i)^2}\ \text{dB}"

AE_VS_PCA = """
**PCA** is the best *linear* autoencoder: with k components it finds the k-dimensional plane
that keeps the most variance, and no linear encoder/decoder pair has a lower squared error
(Baldi & Hornik, 1989). An autoencoder with nonlinear layers can bend its 2-D "plane" through
pixel space. Below, both squeeze every test image to **two numbers** and rebuild it; the map on
the left is the PCA plane, the one on the right the autoencoder's latent space, and the table
gives the reconstruction error of each in two units.
"""

# --- AE vs VAE, anomalies, denoising, AE vs PCA: extra texts (issue 5) ---------------------
DIAGRAM_LEGEND = ("encoder (blue) → bottleneck z (red) → decoder (green); bar height grows "
                  "with layer width")
HOME_DIAGRAM = ("The default model, **digits_vae_z2**, layer by layer: 64 pixels in, two "
                "hidden layers, a 2-number code z, and the mirror image back out.")
FORMULA_ANOMALY = r"s(x) = \mathcal{L}_{\text{recon}}\big(x, \mathrm{dec}(\mathrm{enc}(x))\big),\qquad \text{flag } x \iff s(x) > \tau"
FORMULA_AUC = r"\mathrm{AUC} = P\big(s(x_{\text{anomaly}}) > s(x_{\text{normal}})\big),\qquad \mathrm{TPR}(\tau) = P(s > \tau \mid \text{anomaly}),\ \ \mathrm{FPR}(\tau) = P(s > \tau \mid \text{normal})"
HELD_OUT = """
This AE was trained on the training digits **with every {cls} removed**, then scores all test images.
If reconstruction error is a good anomaly score, the {cls}s (which it never saw) get higher errors
than the other digits. The **ROC curve** sweeps the threshold τ: each point is the share of {cls}s
caught (true positive rate) against the share of other digits wrongly flagged (false positive
rate). The area under it (**AUC**) is the chance that a random {cls} scores higher than a random
other digit: 0.5 is guessing, 1 is perfect.
"""
HELD_OUT_HIST = "Reconstruction error of the test {cls}s (never seen) and of the other digits."
NOISE_LABELS = {"gaussian": "Gaussian", "salt_pepper": "salt and pepper",
                "masking": "masking"}  # what the pickers show for aecore.noise.NOISE_KINDS
NOISE_UNITS = {"gaussian": "std", "salt_pepper": "fraction of pixels",
               "masking": "fraction of pixels"}
# The denoising chart's caption, sentence by sentence, chosen from the data it shows.
DENOISE_CURVE = {
    "intro": "PSNR over the test set (higher is better) as the {noise} noise grows.",
    "trained_here": ("The denoising AE was trained on this kind of noise at level {level:g}; "
                     "the dotted line marks it."),
    "trained_other": ("The denoising AE was trained on {trained} noise ({unit} {level:g}), not on "
                      "{noise} noise: everything here is new to it."),
    "ae_always": "Both autoencoders beat the noisy input at every level shown.",
    "input_low": ("Up to level {upto:g} the noisy input itself beats {who}: there the "
                  "reconstruction error is larger than the noise."),
    "input_some": "At level {at} the noisy input beats an autoencoder.",
    "dae_always": "The denoising AE beats the plain AE at every level.",
    "dae_from": "The denoising AE beats the plain AE from level {start:g} on.",
    "dae_never": "Here the plain AE does as well as or better than the denoising AE.",
}
FORMULA_PCA = r"\hat{x} = m + W W^{\top}(x - m),\qquad W \in \mathbb{R}^{D \times k}:\ \text{the top } k \text{ principal directions of the training pixels}"
PCA_RECON = ("Top: test images. Middle: rebuilt from 2 PCA numbers. Bottom: rebuilt from the "
             "autoencoder's 2 latent numbers.")
BETA_PRIOR = "Prior samples z ~ N(0, I) of the β = {beta:g} model, decoded."

LESSON_LINK = """
This link opens the page exactly as it is now: dataset, model, projection, the picked point,
the interpolation pair, β, the noise level, presenter mode and any hidden controls. To copy it,
point at the box (or tap it on a phone): a copy button appears at its top right. Or select the
text and copy it. The address bar holds the same link at all times.
"""

LESSONS_INTRO = "Each link opens a page already set up for one idea (see Copy lesson link in the sidebar)."

CLASSROOM = """
Run a lesson with the whole class on one latent map. **You** (lecturer) pick a dataset, model
and projection in the sidebar and start a class: a short code appears in large type. **Students**
open this page on their own devices and type the code. They see the same map and click it as on
the Latent map page; every click appears live on your map, with the decoded images of the last
clicks in a strip. Ask them to *find a 7*, *find a place that decodes to garbage*, or *click
where a 3 turns into an 8*, and watch the answers arrive. Students can also draw a digit on the
**Draw your own** page and send it: it lands on your map where the class model encodes it.
"""

CLASS_START = """
Pick the dataset, model and projection in the sidebar, then press **Start a class** below.
The class follows your sidebar: switch model and every student's map switches too. Students
cannot change it. A class ends after 3 hours or when you end it.
"""

CLASS_STUDENT = """
You are in class **{code}** on the model **{model}**. Move over the map to decode the spot under
the pointer; click or tap to pin it: your pin appears on the lecturer's map.
"""

CLASS_PIN = ("Move the pointer (or a finger) over the map: the image beside it is what the "
             "decoder makes there, drawn in your browser. Click, tap or press Enter to pin a dot "
             "or an empty spot: the pin goes to the lecturer's map at once, and the line under "
             "the map says when it has arrived. Show this pin in detail then compares a dot's "
             "image with its reconstruction here, or shows the nearest training image to a "
             "spot.")

CMP_LINKED = ("Both latents are 2-D, so the maps are the latent spaces themselves and the "
              "pointer is linked: moving over either map decodes the same z with both "
              "decoders (a red cursor marks it on the other map). Sweep across a gap between "
              "clusters and compare the two images.")
DENOISE_DIGITS_ONLY = ("This lesson uses the shipped digits models (a plain AE and a denoising "
                       "AE); the dataset picked in the sidebar does not change it.")
NEEDS_DATA_MARK = " · needs {dataset} files"
NO_DATA = ("**{name}** needs the **{dataset}** images, and they cannot be loaded on this "
           "server: {todo}. Meanwhile pick another model or the **digits** dataset in the "
           "sidebar (digits works offline).")

BETA_FIRST = "Below: the plain AE and the VAE side by side, with the scoreboard."

BETA_SCALE = ("Every β is drawn on the same axes, so as β grows you see the codes squeeze "
              "towards the origin; move the pointer to decode any z.")

MAP_START = ("Move the pointer over the map: the image beside it is what the decoder makes at "
             "that spot, drawn in your browser as you move. Click (or tap, or press Enter) a "
             "dot to compare that image with its reconstruction, or empty space to pin the "
             "decoded spot here.")
NO_HOLES_ON_PROJECTION = (
    "On a {method} map a spot decodes a code built from the nearest images' codes, so it "
    "always lies close to training codes: holes in the latent space cannot be seen here. "
    "Pick a model with a 2-D latent (such as digits_ae_z2) to find them.")
POINTER_NOTES = {  # under the decoded image beside the in-browser map
    "identity": "z = (x, y): this map is the latent space itself",
    "pca": "PCA inverse: exact in the plane; the other components sit at their mean",
    "umap": "UMAP has no exact inverse: the code is interpolated between codes of nearby images",
    "tsne": "t-SNE has no inverse: showing the code of the nearest image",
}
SHADE_LABEL = {True: "hole: no training code near", False: "no data nearby"}  # map legend
SHADE_NOTE = {  # under the pointer's image, when the pointer is on a shaded cell
    True: "A hole: the decoder was never trained near this code.",
    False: "No test image lies near this spot on the map.",
}

ACTIVATIONS = """
Every hidden layer computes **h = φ(W h₋ + b)**; the **activation** φ is what makes the
autoencoder nonlinear. Backpropagation multiplies the error by **φ′(a)** at every layer, so the
activation decides how well the gradient travels. The **sigmoid** saturates: φ′ is at most 1/4
and almost 0 for large |a|, and its outputs are all positive, so sigmoid layers learn slowly.
**tanh** is zero-centred with φ′(0) = 1, but saturates too. **ReLU** passes the gradient
unchanged wherever a unit is active (φ′ = 1) and never saturates above 0, which is why deep
networks use it (see the Deep AE page); **leaky ReLU** keeps a small slope below 0 so no unit
dies; **GELU** is a smooth ReLU. The activation also shapes the function the
decoder can draw: a ReLU network is piecewise linear in its input, smooth activations give
smooth maps. Below, the same digits AE (64 → 256 → 128 → z of 8 and back, same seed, 40
epochs) with each activation. **Normalisation** (BatchNorm, LayerNorm) rescales each layer's
inputs to zero mean and unit variance, which keeps units out of saturation; the Train page
offers both, and the Deep AE page shows what it does for a deep model.
"""
FORMULA_ACTS = (r"\mathrm{ReLU}(a) = \max(0, a),\quad \mathrm{LeakyReLU}(a) = \max(0.01a, a),"
                r"\quad \tanh(a),\quad \sigma(a) = \frac{1}{1 + e^{-a}},\ \ "
                r"\sigma'(a) = \sigma(a)(1 - \sigma(a)) \le \tfrac14,\quad "
                r"\mathrm{GELU}(a) = a\,\Phi(a)")
FORMULA_NORM = (r"\mathrm{BN}(a_j) = \gamma_j \frac{a_j - \mu_j}{\sqrt{\sigma_j^2 + \epsilon}}"
                r" + \beta_j\ \text{(over the batch; Ioffe \& Szegedy 2015)},\quad "
                r"\mathrm{LN}(a) = \gamma \odot \frac{a - \bar a}{\sqrt{\mathrm{Var}(a) + "
                r"\epsilon}} + \beta\ \text{(over the layer; Ba et al. 2016)}")
FORMULA_ROUGHNESS = (r"\text{roughness}(\hat x) = \sum_{i,j} |\hat x_{i,j+1} - \hat x_{i,j}| "
                     r"+ |\hat x_{i+1,j} - \hat x_{i,j}|\quad\text{(total variation, mean over "
                     r"the test images)}")

DEEP_AE = """
A **deep autoencoder** stacks many layers: 64 → 128 → 64 → 32 → 16 → z of 8 and back, eight
hidden layers. Trained **end to end** with sigmoid units it learns slowly: the gradient that
reaches the first layers is a product of one factor **W σ′(a)** per sigmoid layer above it,
and σ′ ≤ 1/4, so it shrinks geometrically with depth: the **vanishing gradient** (Hochreiter
1991; Bengio et al. 1994). Hinton & Salakhutdinov (2006) trained such networks by **greedy
layer-wise pretraining**: train the first layer as a shallow autoencoder on the images, then
the second as a shallow autoencoder on the first layer's codes, and so on, stack the layers,
and only then **fine-tune** the whole model end to end (Bengio et al. 2007 did it with
autoencoders, as here). Each shallow autoencoder has a short path from its loss to its weights.
The **modern fix** needs no pretraining: ReLU passes the gradient unchanged where a unit is
active, and BatchNorm keeps every layer's inputs well scaled. Below: the gradient norm of each
layer's weights, the loss curves and the reconstructions of the three, all with the same
architecture, seed and end-to-end epochs.
"""
FORMULA_BACKPROP = (r"\frac{\partial \mathcal{L}}{\partial h_{l}} = W_{l+1}^{\top}\,"
                    r"\mathrm{diag}\big(\sigma'(a_{l+1})\big)\,\frac{\partial \mathcal{L}}"
                    r"{\partial h_{l+1}},\qquad \Big\lVert \frac{\partial \mathcal{L}}{\partial "
                    r"h_{1}} \Big\rVert \le \prod_{l=2}^{L} \tfrac14 \lVert W_{l} \rVert\ "
                    r"\Big\lVert \frac{\partial \mathcal{L}}{\partial h_{L}} \Big\rVert"
                    r"\ \ \text{(sigmoid layers)}")
FORMULA_PRETRAIN = (r"\text{layer } l:\ \min_{W_l, W'_l}\ \sum_n \big\lVert g_l\big(f_l"
                    r"(h_{l-1}^{(n)})\big) - h_{l-1}^{(n)} \big\rVert^2,\quad f_l(h) = "
                    r"\sigma(W_l h + b_l),\ \ h_0 = x\ \text{(BCE for } l = 1\text{)},\ \ "
                    r"h_l = f_l(h_{l-1})")
# -- Tabular data (issue 17) ---------------------------------------------------------------------
TABULAR = """
An autoencoder works on **any numeric data**, not only images. Here each case is a row of
**30 numbers** measured on a breast-mass biopsy image (scikit-learn's breast cancer set:
569 cases, 212 malignant, 357 benign), each **standardised** with the mean and standard
deviation of the training split, (x − mean) / std. So the values are not in [0, 1]: the decoder
ends with an **identity** output (no sigmoid) and the loss is the **squared error** summed over
the 30 features. The AE is trained on **benign cases only**: it learns what normal looks like,
and a case it rebuilds badly is unusual. This is the best-known industrial use of autoencoders,
**anomaly detection** trained on normal data only: no malignant case was needed to train it.
"""
FORMULA_TABULAR = (r"x' = \frac{x - \mu_{\text{train}}}{\sigma_{\text{train}}},\qquad "
                   r"s(x') = \sum_{j=1}^{30} \big(x'_j - \hat{x}'_j\big)^2,\qquad "
                   r"\hat{x}' = \mathrm{dec}(\mathrm{enc}(x'))\ \text{(identity output)}")
TABULAR_SCORES = ("On the {n} test cases ({n_mal} malignant, {n_ben} benign) the ROC-AUC is "
                  "**{auc:.3f}**: a random malignant case has a larger reconstruction error "
                  "than a random benign case {auc_pct:.0f} % of the time. The threshold "
                  "**{thr:.1f}** is the 95th percentile of the errors of the benign *training* "
                  "cases (it uses no malignant case); it flags **{tp}** of the {n_mal} "
                  "malignant test cases and **{fp}** of the {n_ben} benign ones.")
TABULAR_HIST = ("Reconstruction error of each test case, by class (share of the class's "
                "cases per bin); the dashed line is the threshold.")
TABULAR_CASE = ("Case {i} ({label}, error {err:.1f}): the features it rebuilds worst are "
                "{worst}. Together they make {share:.0f} % of its error.")
TABULAR_NO_MODEL = ("This lesson needs the shipped model breast_cancer_ae_z2, which is not on "
                    "this server.")
TABULAR_MAP = ("Tabular data: each point is one case (its 30 features), not an image, so this "
               "map shows **no images** and decodes nothing under the pointer. Pick a case "
               "below to compare its features with their reconstruction.")
IMAGES_ONLY = ("**{name}** is trained on **{dataset}**, a table of feature vectors, not "
               "images: this page shows images, so it has nothing to show for it. Open the "
               "**Tabular** page (anomaly detection on this data), the **Latent map** or the "
               "**Train** page, or pick an image dataset in the sidebar.")

# -- Semi-supervised learning (issue 17) --------------------------------------------------------
SEMISUP = """
Labels are expensive; images are cheap. **Semi-supervised learning** uses many unlabelled
images and a few labelled ones. In the **M1** recipe of Kingma et al. (2014) a VAE is first
trained on every image *without labels*; then a simple classifier is fitted on the latent
means **μ** of the few labelled images. If the encoder has put images of the same class close
together, a handful of labels per class is enough. Here the classifier is **1-nearest
neighbour** (each test image takes the label of the closest labelled image), fitted on three
representations of the same images: the raw **pixels**, the model's code **μ**, and a **PCA**
of the pixels with as many components as μ has dimensions (a linear code of the same size).
Each point of the plot is the mean test accuracy over {repeats} random draws of the labelled
images (the bars give the lowest and highest draw).
"""
FORMULA_SEMISUP = (r"\mu(x) = \mathbb{E}_{q_\phi(z\mid x)}[z],\qquad "
                   r"\hat{y}(x) = y_{j^*},\quad j^* = \arg\min_{j \in \text{labelled}} "
                   r"\lVert f(x) - f(x_j) \rVert_2,\qquad f \in \{\text{pixels},\ \mu,\ "
                   r"\text{PCA}_k\}")
SEMISUP_SUMMARY = ("With **{n} label{s} per class** ({total} labelled images), 1-NN on the "
                   "codes {code} of {name} reaches **{lat:.1%}** test accuracy, on the pixels "
                   "**{pix:.1%}**, on PCA with {k} components **{pca:.1%}**: {verdict}")
SEMISUP_VERDICT = {
    "latent": "the latent codes win.",
    "pixels": "here the raw pixels win: this model's codes do not group the classes better "
              "than the pixels do.",
    "pca": "here the linear PCA code wins.",
}
SEMISUP_MAP = ("The test images on the map, and the {total} labelled training images of the "
               "first draw ({n} per class) as diamonds in their class's colour: the only "
               "labels the classifier sees. {placed}")
SEMISUP_NOT_EXACT = ("This model's latent has {k} dimensions and the sidebar's projection "
                     "cannot place new codes exactly, so the map uses PCA here.")
# -- Bottleneck size (pages/10_Bottleneck.py) ---------------------------------------------------
BOTTLENECK = """
The **bottleneck** z decides how much of an image gets through. With z smaller than the input
(64 pixels here) the autoencoder is **undercomplete**: it must compress, so it keeps what
digits have in common and drops the rest. With z as large as the input or larger it is
**overcomplete**: nothing forces it to compress, and copying the input (the identity map) is
a perfect solution, which teaches nothing about digits. Below, seven AEs that differ only in z
(same layers, data, seed and 60 epochs) show what a wider bottleneck buys. The
**copy test** then feeds them inputs that are not digits and measures how much of a change
to the input comes out: the **noise-copy score** (1: the noise is copied, 0: it is ignored).
"""
FORMULA_COMPLETE = (r"\text{undercomplete: } \dim z < D,\qquad \text{overcomplete: } "
                    r"\dim z \ge D \quad (D = 64 \text{ pixels})")
FORMULA_COPY_SCORE = (r"s = \frac{\sum \langle f(\tilde x) - f(x),\ \tilde x - x\rangle}"
                      r"{\sum \lVert \tilde x - x\rVert^2},\qquad \tilde x = \mathrm{clip}"
                      r"(x + \epsilon),\ \epsilon \sim \mathcal{N}(0, 0.3^2 I),\qquad "
                      r"f = \mathrm{dec}\circ\mathrm{enc}")
FORMULA_SPARSE = (r"\mathcal{L} = \mathcal{L}_{\text{recon}}\big(x, \mathrm{dec}(z)\big) + "
                  r"\lambda \sum_j \lvert z_j \rvert,\qquad z = \mathrm{enc}(x)\quad"
                  r"\text{(sparse AE, Goodfellow et al. 2016, §14.2.1)}")
SWEEP_HEAD = "Reconstruction error against z"
SWEEP_SAYS = ("Test error goes from **{first:.2f}** {unit} per image at z = {z0} to "
              "**{best:.2f}** at z = {zbest} (the lowest); at z = {zlast} it is **{last:.2f}**. "
              "The train-test gap at z = {zlast} is {gap:.2f}.")
SWEEP_RECON = ("Top row: test images. Each row below: their reconstructions by the AE with "
               "z = {zs}, from top to bottom.")
COPY_HEAD = "The copy test"
COPY_INTRO = ("Columns, two of each: test digits, uniform noise, the digits shifted right, "
              "the digits inverted, letter-like strokes. Top row: the inputs; each row below: "
              "what an AE returns, from z = {z0} (top) to z = {zlast} (bottom). Right: the "
              "errors (summed squared error per image) and the noise-copy score per z.")
COPY_SAYS = ("Noise-copy score: **{s_first:.2f}** at z = {z0} and **{s_last:.2f}** at "
             "z = {zlast} (highest **{s_max:.2f}** at z = {z_max}). On uniform noise the error "
             "is {n_last:.1f} per image at z = {zlast}, {ratio:.0f}× its error on digits "
             "({d_last:.2f}); on letter strokes {l_first:.1f} at z = {z0} and {l_last:.1f} at "
             "z = {zlast}: {verdict}")
COPY_VERDICT = {
    True: "the overcomplete AE passes much more of its input through than the 2-D one.",
    False: "the overcomplete AE does not pass more of its input through than the 2-D one here.",
}
COPY_NOT_IDENTITY = ("Trained on digits alone, none of these AEs learns the identity map: "
                     "uniform noise never comes back as noise, because the training data never "
                     "asked for pixels that do not look like a digit. The identity is one "
                     "perfect solution for an overcomplete AE, not the one gradient descent "
                     "finds here; what a larger z does is let more of any input through.")
FIX_HEAD = "Fixes for an overcomplete AE"
FIX_INTRO = ("Each switch adds the same z = 128 AE trained with one fix (a shipped model): "
             "Gaussian input noise of std 0.3 (denoising), dropout 0.2, weight decay 0.1, or "
             "an L1 penalty of weight 0.05 on z (sparsity). A fix works when it lowers the "
             "noise-copy score without ruining the digits.")
FIX_TOGGLES = {"denoise": "Denoising", "dropout": "Dropout", "wd": "Weight decay",
               "sparse": "Sparsity"}
FIX_LABELS = {"denoise": "Denoising (Gaussian noise 0.3)", "dropout": "Dropout 0.2",
              "wd": "Weight decay 0.1", "sparse": "Sparsity λ = 0.05 (L1 on z)"}
FIX_SAYS = ("{name}: noise-copy score **{score:.2f}** against **{plain:.2f}** without a fix "
            "({change}), test reconstruction error {recon:.2f} against {plain_recon:.2f}.")
FIX_CHANGE = {True: "lower: it copies less", False: "not lower: this fix does not stop copying "
                                                    "here"}
FIX_ROWS = "Top row: the inputs. Then, from top to bottom: {rows}."
COPY_MINE_HEAD = "The copy test on the model in the sidebar"
COPY_MINE = ("**{name}** (z = {z}, {kind}): noise-copy score **{score:.2f}**; summed squared "
             "error {noise:.2f} per image on uniform noise and {digits:.2f} on its test images.")
COPY_MINE_ROWS = "Top row: the inputs (from its own test set); bottom row: what {name} returns."
COPY_MINE_NO_DATA = ("**{name}**'s images cannot be loaded on this server, so its copy test "
                     "cannot run; pick a digits model in the sidebar.")
CAPACITY_MISSING = ("The shipped bottleneck models are missing: run `python -m aecore "
                    "rebuild-shipped {names}`.")

# -- Posterior collapse (pages/11_Posterior_collapse.py) ----------------------------------------
COLLAPSE = """
A VAE's KL term is a sum over latent dimensions. A dimension whose posterior q(z_j | x) equals
the prior N(0, 1) for every image costs **0 nats** of KL but carries no information: it has
**collapsed**. Burda et al. (2016) call a unit **active** when its posterior mean moves with the
input, Cov_x(E_q[z_u]) > 0.01. A large **β** (or a decoder strong enough to do without z)
makes collapse the cheapest solution. Two cures: **KL annealing** starts β near 0 and raises it
(linearly, or in cycles: Fu et al. 2019), so the codes become useful before the KL bites;
**free bits** (Kingma et al. 2016) stop charging a dimension's KL below λ nats, so switching
it off gains nothing.
"""
FORMULA_KL_DIM = (r"\mathrm{KL}_j = \mathbb{E}_x\Big[-\tfrac{1}{2}\big(1 + \log\sigma_j^2(x) - "
                  r"\mu_j^2(x) - \sigma_j^2(x)\big)\Big],\qquad \mathrm{KL} = \sum_j "
                  r"\mathrm{KL}_j")
FORMULA_ACTIVE = (r"A_u = \mathrm{Cov}_x\big(\mathbb{E}_{q(u\mid x)}[u]\big),\qquad u "
                  r"\text{ active} \iff A_u > 0.01\quad\text{(Burda et al. 2016)}")
FORMULA_FREE_BITS = (r"\mathcal{L} = \mathcal{L}_{\text{recon}} + \beta \sum_j \max\big("
                     r"\lambda,\ \mathbb{E}_{\text{batch}}[\mathrm{KL}_j]\big)\quad"
                     r"\text{(free bits, Kingma et al. 2016)}")
COLLAPSE_LESSON_HEAD = "A large β, with and without the cures"
COLLAPSE_LESSON = ("Four shipped 16-D VAEs: digits_vae_z16 (β = 1, 300 epochs) for "
                   "reference, then three with β = 4 trained alike for 60 epochs: alone, with "
                   "cyclical KL annealing (4 cycles of 15 epochs) and with free bits "
                   "(λ = 0.5 nats per dimension). Blue bars: active units; grey: inactive.")
COLLAPSE_SAYS = ("Active units: **{ref}** of {dim} with β = 1, **{plain}** with β = 4 alone, "
                 "**{cyc}** with cyclical annealing and **{fb}** with free bits. {cyc_verdict} "
                 "{fb_verdict}")
CYCLICAL_VERDICT = {
    True: "Cyclical annealing keeps more units active than β = 4 alone.",
    False: ("Cyclical annealing does not help here: every cycle ends at β = 4, where switching "
            "the units off is the cheapest solution, so they collapse again. Annealing cures "
            "collapse that happens early in training, not collapse that β makes optimal."),
}
FREE_BITS_VERDICT = {
    True: ("Free bits keep more units active than β = 4 alone: below λ a unit's KL costs "
           "nothing, so it may as well carry information."),
    False: "Free bits do not keep more units active than β = 4 alone here.",
}
COLLAPSE_MINE_HEAD = "The model in the sidebar"
COLLAPSE_MINE = ("**{name}**: **{active}** of {dim} units active, total KL **{kl:.2f}** nats "
                 "per image, test reconstruction {recon:.2f} {unit} per image.")
COLLAPSE_NOT_VAE = ("**{name}** is not a VAE: it has no posterior, so nothing can collapse. "
                    "Pick a VAE in the sidebar to measure it.")
COLLAPSE_MISSING = ("The shipped posterior-collapse models are missing: run `python -m aecore "
                    "rebuild-shipped {names}`.")
TRAIN_SPARSITY_HELP = ("Plain AE only: adds λ·Σ|z_j| to the loss (a sparse autoencoder), so "
                       "most code values stay near 0; a fix for an overcomplete AE.")
TRAIN_FREE_BITS_HELP = ("VAEs only: each latent dimension's KL is charged at least λ nats "
                        "(free bits, Kingma et al. 2016), so switching a dimension off gains "
                        "nothing; a cure for posterior collapse.")
# --- IWAE bound (issue 17) -----------------------------------------------------------------
IWAE = """
A VAE is trained on the **ELBO**, a *lower bound* on the log-likelihood log p(x). The bound is
loose by exactly **KL(q(z|x) ‖ p(z|x))**: how far the encoder's Gaussian q(z|x) is from the
decoder's true posterior p(z|x). The **importance-weighted bound** L_k (Burda et al., 2016)
draws k codes from q(z|x) and averages their importance weights p(x, z)/q(z|x) *inside* the log:
L_1 is the ELBO, L_k never decreases on average as k grows, and it tends to log p(x). The curve below
is L_k for one shipped VAE, precomputed on its test images; how far it climbs above the
ELBO is a lower bound on that KL gap. Same model, same weights: only the estimate improves.
"""
FORMULA_IWAE = (r"\mathcal{L}_k(x) = \mathbb{E}_{z_1,\dots,z_k \sim q(z\mid x)}\Big[\log "
                r"\frac{1}{k}\sum_{i=1}^{k} \frac{p(x\mid z_i)\,p(z_i)}{q(z_i\mid x)}\Big],"
                r"\qquad \mathcal{L}_1 = \mathrm{ELBO} \le \mathcal{L}_k \le \mathcal{L}_{k+1}"
                r" \le \log p(x)")
FORMULA_IWAE_GAP = (r"\log p(x) - \mathrm{ELBO} = \mathrm{KL}\big(q(z\mid x)\,\|\,"
                    r"p(z\mid x)\big) \ge \mathcal{L}_k - \mathcal{L}_1")
IWAE_VERDICT = (
    "**{name}**, first {images} images of {dataset} {split}, k up to {k:,}: L_1 (the ELBO) is "
    "**{l1:.2f}** nats per image and L_{k} is **{lk:.2f}** nats. Importance sampling raised the "
    "bound by **{gap:.2f}** nats, so on these images the encoder's q(z|x) is on average at "
    "least {gap:.2f} nats (in KL) away from the true posterior p(z|x). The likelihood is the "
    "model's own Bernoulli decoder on grey levels, so the numbers compare with this app's "
    "losses, not with results on binarised MNIST.")
IWAE_TABLE = ("Every shipped VAE (nats per image; gap = L_K − L_1). Precomputed by "
              "`bench/iwae_bound.py --write` with one set of K posterior samples per image "
              "(seed 0), cut into disjoint groups of k for each L_k.")
IWAE_NO_CURVE = ("No precomputed L_k curve for {name}: this lesson covers the shipped VAEs. "
                 "Pick one in the sidebar.")
IWAE_FALLBACK = ("Showing {name}: the sidebar's model is not a shipped VAE with a precomputed "
                 "curve.")
# ---- Draw your own (pages/17_Draw_your_own.py) -----------------------------------------------
DRAW = """
Draw a digit on the pad. When you lift the pen, the drawing is cropped, scaled and averaged
down to the model's input size (the enlarged **what the model sees**), then **encoded**. A plain
AE gives one code z, a star on the map. A VAE's encoder gives a whole distribution, the
**posterior** q(z | x) = N(μ, σ²): the red ellipse spans one σ on each side of μ, so its axes
are 2σ₁ and 2σ₂ (on a PCA map, the same Gaussian projected onto the plane). The black dots are
**reparameterised samples** z = μ + σ·ε with ε ~ N(0, I), and the strip shows what the decoder
makes of each: this is how a VAE is trained, one such sample per image. The
**reconstruction error** of your drawing is compared with the test images' errors: draw a
letter and it lands above the 95th percentile, an **anomaly** to this model.
"""
FORMULA_POSTERIOR = (r"q(z\mid x) = \mathcal{N}\big(\mu(x),\ \mathrm{diag}\,\sigma^2(x)\big),"
                     r"\qquad \text{ellipse: } \frac{(z_1-\mu_1)^2}{\sigma_1^2} + "
                     r"\frac{(z_2-\mu_2)^2}{\sigma_2^2} = 1")
DRAW_FACTS = ("The histogram holds the reconstruction errors of the {n} test images; its dashed "
              "line, the 95th percentile, is at {p95:.1f} {unit}. A drawing above it is flagged "
              "as an anomaly.")
DRAW_WHERE = ("Everything after a stroke runs in your browser (encoder, ellipse, samples, "
              "decoder, score): no message goes to the server, so the map answers as soon as "
              "the pen lifts. Map: {method}.")
DRAW_SEND = ("You are in class **{code}**: **Send to the class map** (under the pad) sends the "
             "{h} × {w} pixels the model sees, and nothing else, to the lecturer, whose map "
             "shows where the class model encodes it (a red star). At most one drawing every "
             "{gap:g} s and {per} in all per student.")
DRAW_SEND_JOIN = ("In a class? Join it on the **Classroom** page first; then a **Send to the "
                  "class map** button appears under the pad.")
DRAW_SEND_OTHER = ("Your class **{code}** uses a model on **{dataset}**: pick a {dataset} model "
                   "in the sidebar to send a drawing to the class map.")
CLASS_DRAWINGS = ("Students can draw on the **Draw your own** page and press **Send to the class "
                  "map**: each drawing is encoded with the class model and shown as a red star "
                  "(the newest numbered D1, D2… as in the strip below the map).")
DRAW_DAE = ("This is a denoising AE: move **noise σ** to add Gaussian noise to the drawing; the "
            "reconstruction is compared with the clean drawing.")

# ---- Watch it learn (pages/18_Watch_it_learn.py) ----------------------------------------------
LEARN = """
Training moves every code. Each frame below is the test images' codes z (for a VAE, μ) after
one more stretch of training, all placed on one map: the latent space itself for a 2-D model,
else the PCA plane of the final codes, fitted once so every frame shares the same axes. Press
**Play** or drag the slider. At epoch 0 the untrained encoder squeezes every image into one
small blob; as the reconstruction loss falls the digits pull apart into clusters. A plain AE
spreads them wherever reconstruction likes; a VAE's KL term pulls them towards the prior
N(0, I) around the origin, and a larger β pulls harder.
"""
FORMULA_LEARN = (r"\theta_{t+1} = \theta_t - \eta\,\nabla_\theta \mathcal{L}(\theta_t),\qquad "
                 r"\text{frame } e:\ z_i^{(e)} = \mathrm{enc}_{\theta_e}(x_i)")
LEARN_FACTS = ("{frames} frames of {n} test images: epoch 0 (untrained) to epoch {last}, every "
               "{step} epoch(s). The pointer decodes with the saved weights of epoch {best} (the "
               "best test loss); the weights of the other epochs are not kept, so the "
               "decoder under the pointer does not change with the slider.")
LEARN_NONE = ("**{name}** has no training recording (shipped: digits_ae_z2, digits_vae_z2). "
              "Train a model on the **Train** page: "
              "every run is recorded and a saved model keeps its recording. A shipped model "
              "is recorded with `python -m aecore record-shipped {name}` (it retrains the "
              "recipe and keeps the file only if the weights equal the shipped ones).")
