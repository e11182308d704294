"""Every explanation the app shows, in one place so they can be reviewed together.

Each page's text is three to six sentences; formulas are LaTeX strings for ``st.latex``.
"""
from __future__ import annotations

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

INVERSE_NOTES = {
    "exact": "The map is the 2-D latent space itself, so a click gives z exactly.",
    "plane": ("PCA inverse: z is exact within the plane of the first two principal components; "
              "every other component is set to its mean over the test codes."),
    "approximate": ("UMAP inverse (umap-learn's inverse_transform, computed once for a grid): "
                    "approximate, and poor far from the data."),
    "snap": ("t-SNE has no inverse: a click on empty space snaps to the nearest test image's "
             "code."),
}

HOLE_WARNING = ("A hole: the decoder has never been trained here (farther from every training "
                "code than 95% of test images are).")

UNITS = {"bce": "nats", "mse": "squared error"}
