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

    def test_raw_prompt_and_typed_structured_output_and_tool_choice(self) -> None:
        params = types_pb2.GenerationParams(
            max_tokens=8,
            json_schema=types_pb2.JsonSchemaFormat(name="answer", strict=True),
            tool_choice=types_pb2.ToolChoice(mode=types_pb2.ToolChoice.NAMED, name="f"),
        )
        params.json_schema.schema.update({"type": "object", "required": ["a"], "properties": {"a": {"minimum": 1}}})
        request = inference_pb2.GenerateRequest(request_id="r", prompt="<s>[INST] hi [/INST]", params=params)
        parsed = inference_pb2.GenerateRequest.FromString(request.SerializeToString())
        self.assertEqual(parsed, request)
        self.assertEqual(parsed.params.json_schema.schema["required"][0], "a")
        self.assertEqual(parsed.params.tool_choice.mode, types_pb2.ToolChoice.NAMED)
        self.assertFalse(inference_pb2.GenerateRequest().params.HasField("tool_choice"))
        unset_mode = types_pb2.GenerationParams(tool_choice=types_pb2.ToolChoice())
        self.assertTrue(types_pb2.GenerationParams.FromString(unset_mode.SerializeToString()).HasField("tool_choice"))

    def test_count_tokens_and_reasoning_on_a_turn(self) -> None:
        turn = types_pb2.ChatMessage(role="assistant", content="42", reasoning_text="6 x 7")
        request = inference_pb2.CountTokensRequest(messages=[turn], tools=[types_pb2.Tool(name="f")])
        self.assertEqual(inference_pb2.CountTokensRequest.FromString(request.SerializeToString()), request)
        response = inference_pb2.CountTokensResponse(prompt_tokens=12, max_model_len=4096)
        self.assertEqual(inference_pb2.CountTokensResponse.FromString(response.SerializeToString()), response)

    def test_payload_and_details_are_structs(self) -> None:
        sample = types_pb2.Sample(id="1")
        sample.payload.update({"ground_truth": [{"f": {"x": [1]}}]})
        score = types_pb2.Score(metric="m", value=1.0)
        score.details.update({"prediction": "A", "ok": True})
        self.assertEqual(
            types_pb2.Sample.FromString(sample.SerializeToString()).payload["ground_truth"][0]["f"]["x"][0], 1
        )
        self.assertTrue(types_pb2.Score.FromString(score.SerializeToString()).details["ok"])


if __name__ == "__main__":
    unittest.main()
