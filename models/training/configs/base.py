# The study's protocol (Shen et al. 2024): ResNet-100 + CosFace, 5-fold CV grouped by patient.
# A config is data: copy this file, or derive one with dict(config, key=value).
config = dict(
    name="iresnet100-cosface",
    network="iresnet100",          # InsightFace spelling; r50/r34/r18 or "iresnet" + network_kwargs
    network_kwargs={},
    dropout=0.0,
    head="cosface",                # cosface (s=64, m=0.4) or arcface (s=64, m=0.5)
    scale=64.0,
    margin=None,                   # None: 0.4 for CosFace, 0.5 for ArcFace
    pretrained=None,               # path to an InsightFace backbone.pth (foundation model)
    optimizer="sgd",
    lr=0.02,
    backbone_lr_mult=1.0,
    momentum=0.9,
    weight_decay=5e-4,
    decay_norm_and_bias=True,      # from scratch: weight decay on every parameter, as InsightFace trains
    # With --pretrained: the head alone first (a linear probe on the frozen backbone), then everything with the
    # backbone at 0.1 x lr (warm-up, cosine decay) and no weight decay on BN, PReLU, biases or the class centres.
    finetune=dict(head_epochs=2, backbone_lr_mult=0.1, decay_norm_and_bias=False, warmup_epochs=1),
    batch_size=64,
    epochs=30,
    warmup_epochs=1,
    balance="sampler",             # see train.BALANCE_MODES: patient, sampler, sqrt, logit-adjust, loss, none
    logit_adjust_tau=1.0,          # balance="logit-adjust": train on logits + tau * log(class prior)
    augment=None,                  # e.g. dict(rotate_deg=5, scale=0.05, shift_px=3, colour=0.1, blur=0.2, jpeg=0.2)
    flip=True,                     # random horizontal flip, as InsightFace
    amp=True,                      # mixed precision when a CUDA GPU is present
    device="auto",
    folds=5,
    seed=2024,
    calibration="inner-oof",       # T from inner out-of-fold logits, training on all patients; or "holdout"
    inner_folds=3,                 # calibration="inner-oof": inner folds (3 extra trainings per model)
    calibration_fraction=0.15,     # calibration="holdout": share of each class's training patients held out
    repeat_seeds=[],               # repeated CV: further seeds re-draw the folds (e.g. [2025, 2026] for 3 x 5)
    duplicate_threshold=0.8,       # cosine (pretrained embeddings) above which crops of two patient ids are listed
)
