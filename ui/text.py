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
where a 3 turns into an 8*, and watch the answers arrive.
"""

CLASS_START = """
Pick the dataset, model and projection in the sidebar, then press **Start a class** below.
The class follows your sidebar: switch model and every student's map switches too. Students
cannot change it. A class ends after 3 hours or when you end it.
"""

CLASS_STUDENT = """
You are in class **{code}** on the model **{model}**. Click a dot to see that image and its
reconstruction, or click empty space to decode it: your click appears on the lecturer's map.
"""

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
