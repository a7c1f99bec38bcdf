"""The reference optimizer's double update of shared parameters, without duplicated lists."""

SHARED_UPDATES = ("once", "twice")


def update_twice(optimizer, params):
    """Make every ``optimizer.step()`` update ``params`` a second time with the same gradient.

    This is what a torch optimizer does sequentially for a parameter listed twice (the authors'
    ``Adam(list(generator.parameters()) + list(discriminator.parameters()))``): per-parameter state
    such as Adam's moments and step counter advances twice, weight decay reads the parameter as
    the first update left it, and every other parameter is updated once. It is done here by one
    more ``step()`` over ``params`` alone, so it works for any torch optimizer that skips
    parameters without a gradient, and does not rely on duplicated lists (deprecated in torch).
    Returns the hook's handle.
    """
    twice = {id(p) for p in params}
    repeating = False

    def repeat(opt, args, kwargs):
        nonlocal repeating
        if repeating:
            return
        others = [p for group in opt.param_groups for p in group["params"]
                  if id(p) not in twice and p.grad is not None]
        grads = [p.grad for p in others]
        repeating = True
        try:
            for p in others:
                p.grad = None
            opt.step()
        finally:
            repeating = False
            for p, grad in zip(others, grads):
                p.grad = grad

    return optimizer.register_step_post_hook(repeat)


def shared_parameters(first, second):
    """The parameters that modules ``first`` and ``second`` both hold (the same tensors)."""
    ids = {id(p) for p in second.parameters()}
    return [p for p in first.parameters() if id(p) in ids]

