"""Latent vector arithmetic (Radford et al. 2015, sec. 6.3, Fig. 7), an application of the
library (``python -m lit_gan arithmetic``):

- expression: the expression ("a - b + c") and its algebra on group means
- groups: groups of samples chosen by a classifier's names
- run: the pool, the groups, the one decoding batch, the .npz
- figure: the figure laid out as Fig. 7
"""
