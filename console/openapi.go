package console

import (
	_ "embed"

	"github.com/gofiber/fiber/v2"
)

// openapiJSON documents every route Routes returns (the API and the
// pages); a test fails when a route is missing from it.
//
//go:embed openapi.json
var openapiJSON []byte

func (c *Console) handleOpenAPI(ctx *fiber.Ctx) error {
	ctx.Set(fiber.HeaderContentType, "application/json; charset=utf-8")
	return ctx.Send(openapiJSON)
}
