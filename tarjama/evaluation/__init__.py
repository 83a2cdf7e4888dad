"""Quality measurements of tarjama's models (``tarjama eval``): ``metrics`` (pure scoring functions: sacrebleu's
BLEU/chrF/chrF++, ROUGE with a tokenizer that keeps Arabic, lead-k baselines) and ``runs`` (reading the test
files, running the models or reading given outputs, the reports)."""
