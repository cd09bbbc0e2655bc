import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';

// `.openapi(...)` metadata on the same schemas that validate requests; imported by every API schema module.
extendZodWithOpenApi(z);

export { z };
