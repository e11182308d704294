"""AE vs VAE: the same data through both, side by side, and a scoreboard."""
import streamlit as st

from aecore.errors import LatentLabError
from ui import cache, compare, figures, shell, text

shell.page_setup("AE vs VAE", icon=":material/compare:")
st.title("AE vs VAE")
st.markdown(text.AE_VS_VAE)
with st.expander("The formulas", icon=":material/function:"):
    st.latex(text.FORMULA_ELBO)
    st.latex(text.FORMULA_KL)
    st.latex(text.FORMULA_REPARAM)
ds = st.session_state.get("side.dataset", "digits")
infos = [i for i in cache.list_models()[0] if i.dataset == ds]
if len(infos) < 2:
    st.info("This lesson needs two models of the same dataset: pick digits.")
    st.stop()
try:
    left, right = compare.pickers(infos, (f"{ds}_ae_z2", f"{ds}_vae_z2"))
    compare.side_by_side(left, right)
    st.subheader("Scoreboard (test set)")
    compare.scoreboard_table(left, right)
    st.subheader("The same interpolation")
    compare.interpolations(left, right)
    st.subheader("Prior samples")
    compare.prior_samples(left, right)
except LatentLabError as exc:
    st.error(f"Cannot compare these models: {exc}", icon=":material/error:")
sweep = {i.model_config.beta: i for i in infos
         if i.name.startswith(f"{ds}_bvae_b") or i.name == f"{ds}_vae_z2"}
if len(sweep) > 1:
    st.subheader("What β does")
    st.markdown(text.BETA_SWEEP)
    beta = st.select_slider("β", sorted(sweep), value=1.0 if 1.0 in sweep else None,
                            key="cmp.beta")
    info = sweep[beta]
    c1, c2 = st.columns([3, 2])
    atlas = cache.atlas(info, "identity")
    test = cache.model_splits(info)[1]
    c1.plotly_chart(figures.latent_map(atlas.embedding, test.y.numpy(), test.classes,
                                       height=420), key="cmp.beta.map")
    s = compare.scores(str(info.path), info.id, "identity")
    c2.dataframe([{"metric": text.METRICS[k][0], "value": round(v, 3)} for k, v in s.items()],
                 hide_index=True, width="stretch")
