from .iresnet import (IBasicBlock, IResNet, get_model, iresnet18, iresnet34,
                      iresnet50, iresnet100, iresnet_tiny)

__all__ = ["IBasicBlock", "IResNet", "get_model", "iresnet18", "iresnet34",
           "iresnet50", "iresnet100", "iresnet_tiny"]
