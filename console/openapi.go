package console

import (
	"bytes"
	_ "embed"

	"github.com/gofiber/fiber/v2"
)

// openapiJSON documents every route of the server: those Routes returns
// (the console's API, pages and files: a test here checks them) and the
// rest of the product's route table (the wall, signing in, the push
// intake, operations: checked by a test of package app).
//
//go:embed openapi.json
var openapiJSON []byte

// OpenAPI returns a copy of the OpenAPI 3.1 document served at
// /api/openapi.json, which describes every route of the server.
func OpenAPI() []byte { return bytes.Clone(openapiJSON) }

func (c *Console) handleOpenAPI(ctx *fiber.Ctx) error {
	ctx.Set(fiber.HeaderContentType, "application/json; charset=utf-8")
	return ctx.Send(openapiJSON)
}
