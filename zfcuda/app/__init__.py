"""The application: the ``zfcuda`` command (``cli``), the demo and its page (``demo``,
``demo_page``), and the pipelines that run an analysis on a shipped model and draw its figure
(``deconv_figures``). The only layer that both computes and draws."""
