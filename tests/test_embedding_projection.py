"""A generator smaller than the discriminator sharing its item table through ELECTRA's
projections (``gen_embedding_size``)."""

import torch

from conftest import make_model


def small_generator(data_path, **overrides):
    return make_model(data_path, model_shared_type="embed_only", gen_hidden_size=8,
                      gen_inner_size=16, gen_embedding_size=16, **overrides)


def test_a_small_generator_shares_the_discriminators_embeddings(data_path, workdir):
    _, (train, _, _), model = small_generator(data_path)
    for name in ("item_embedding", "position_embedding"):
        assert getattr(model.generator, name) is getattr(model.discriminator, name)
    assert model.generator.item_embedding.embedding_dim == 16
    assert model.generator.trm_encoder.layer[0].feed_forward.dense_1.in_features == 8
    assert model.discriminator.embedding_projection is None
    gen_loss, dis_loss = model.calculate_loss(next(iter(train)))
    (gen_loss + dis_loss).backward()
    for name in ("embedding_projection", "output_projection"):
        for param in getattr(model.generator, name).parameters():
            assert param.grad is not None and param.grad.abs().sum() > 0, name


def test_the_generators_states_are_projected_to_the_embedding_space(data_path, workdir):
    _, _, model = small_generator(data_path, gen_hidden_dropout_prob=0.0,
                                  gen_attn_dropout_prob=0.0)
    model.eval()
    network = model.generator
    items = torch.tensor([[0, 0, 3, 5, 7]])
    positions = torch.arange(5).unsqueeze(0)
    mask = model.get_attention_mask(items)
    states = network(items, positions, mask)
    embedded = network.LayerNorm(network.item_embedding(items) + network.position_embedding(positions))
    hidden = network.trm_encoder(network.embedding_projection(embedded), mask,
                                 output_all_encoded_layers=False)[-1]
    assert states.shape == (1, 5, 16)
    torch.testing.assert_close(states, network.output_projection(hidden))


def test_equal_sizes_add_no_projection(data_path, workdir):
    _, _, model = make_model(data_path, gen_embedding_size=16)  # = gen_hidden_size
    names = [name for name, _ in model.named_parameters()]
    assert not any("projection" in name for name in names if name.startswith("generator."))
