"""The generated messages serialise and parse back unchanged."""

import math
import unittest

from nejumi_proto.v1 import inference_pb2, types_pb2


class ProtoRoundTripTest(unittest.TestCase):
    def test_sample_round_trips_with_tools_and_params(self) -> None:
        sample = types_pb2.Sample(
            benchmark="jaster",
            task="jnli",
            id="7",
            shots=2,
            subset="test",
            messages=[types_pb2.ChatMessage(role="user", content="前提：猫がいる。")],
            tools=[types_pb2.Tool(name="f", parameters_json='{"type": "object"}')],
            generation=types_pb2.GenerationParams(temperature=0.1, max_tokens=3),
            references=["entailment"],
            attempt=1,
            metadata={"metric": "exact_match"},
        )
        parsed = types_pb2.Sample.FromString(sample.SerializeToString())
        self.assertEqual(parsed, sample)
        self.assertTrue(parsed.generation.HasField("temperature"))
        self.assertFalse(parsed.generation.HasField("top_p"))

    def test_score_distinguishes_unset_from_zero(self) -> None:
        unset = types_pb2.Score(metric="control")
        zero = types_pb2.Score(metric="control", value=0.0)
        self.assertFalse(types_pb2.Score.FromString(unset.SerializeToString()).HasField("value"))
        self.assertTrue(types_pb2.Score.FromString(zero.SerializeToString()).HasField("value"))
        nan = types_pb2.Score.FromString(types_pb2.Score(metric="m", value=math.nan).SerializeToString())
        self.assertTrue(math.isnan(nan.value))

    def test_generate_result_carries_error_or_response(self) -> None:
        result = inference_pb2.GenerateResult(
            request_id="r1", error_code=3, error_message="params.max_tokens must be > 0"
        )
        parsed = inference_pb2.GenerateResult.FromString(result.SerializeToString())
        self.assertFalse(parsed.HasField("response"))
        self.assertEqual(parsed.error_code, 3)


if __name__ == "__main__":
    unittest.main()
