import type { ContentRule, Violation } from './types.ts';
import { coc, cocPath, isBlank, rows } from './fields.ts';

/**
 * Multi-stage type approval (2018/858 Art. 22, Annex VIII): stage 1 is the base vehicle, each
 * later stage's manufacturer sends its own eCoC naming the previous stage's approval.
 * StageOfCompletion: C complete (single stage), I incomplete, V completed (final stage).
 */

const PREVIOUS_STAGE_FIELDS = ['PreviousStageTypeApprovalNumber', 'PreviousStageType', 'PreviousStageVariant', 'PreviousStageVersion'];

export const stageRules: ContentRule[] = [
  {
    id: 'IVI-STAGE-001',
    description: 'Manufacturer stage numbers are unique and run 1, 2, 3, … without gaps',
    categories: 'all',
    severity: 'error',
    owner: 'integration',
    check(input) {
      const stages = rows(coc(input).ManufacturerTable, 'ManufacturerGroup').map((group) => group.ManufacturerStageNumber);
      if (stages.length === 0 || stages.some((stage) => typeof stage !== 'number')) return [];
      const sorted = [...(stages as number[])].sort((a, b) => a - b);
      return sorted.every((stage, index) => stage === index + 1)
        ? []
        : [{ path: cocPath('ManufacturerTable'), message: `manufacturer stage numbers are ${stages.join(', ')}, expected 1…${stages.length}` }];
    },
  },
  {
    id: 'IVI-STAGE-002',
    description: 'StageOfCompletion agrees with the stages: C has one stage, V has at least two',
    categories: 'all',
    severity: 'error',
    owner: 'integration',
    check(input) {
      const data = coc(input);
      const stages = rows(data.ManufacturerTable, 'ManufacturerGroup').length;
      const completion = data.StageOfCompletion;
      if (completion === 'C' && stages > 1) {
        return [{ path: cocPath('StageOfCompletion'), message: `a complete (C) single-stage vehicle lists ${stages} manufacturer stages; use V for a completed multi-stage vehicle` }];
      }
      if (completion === 'V' && stages === 1) {
        return [{ path: cocPath('StageOfCompletion'), message: 'a completed (V) vehicle needs the manufacturers of the earlier stages' }];
      }
      return [];
    },
  },
  {
    id: 'IVI-STAGE-003',
    description: "Stage 1 has no previous stage; every later stage names the previous stage's type-approval number",
    categories: 'all',
    severity: 'error',
    owner: 'homologation',
    check(input) {
      return rows(coc(input).ManufacturerTable, 'ManufacturerGroup').flatMap((group, index): Violation[] => {
        const at = (field: string) => cocPath('ManufacturerTable', 'ManufacturerGroup', index, field);
        if (group.ManufacturerStageNumber === 1) {
          return PREVIOUS_STAGE_FIELDS.filter((field) => group[field] !== undefined).map((field) => ({
            path: at(field),
            message: `stage 1 (base vehicle) has no previous stage, but ${field} is given`,
          }));
        }
        return typeof group.ManufacturerStageNumber === 'number' && isBlank(group.PreviousStageTypeApprovalNumber)
          ? [{ path: at('PreviousStageTypeApprovalNumber'), message: `stage ${group.ManufacturerStageNumber} must name the previous stage's type-approval number` }]
          : [];
      });
    },
  },
  {
    id: 'IVI-STAGE-004',
    description: 'Completion/alteration details are given only for multi-stage vehicles',
    categories: 'all',
    severity: 'error',
    owner: 'integration',
    check(input) {
      const data = coc(input);
      if (rows(data.ManufacturerTable, 'ManufacturerGroup').length > 1) return [];
      return ['CompletedAltered', 'DescriptionCompletedAltered']
        .filter((field) => data[field] !== undefined)
        .map((field) => ({ path: cocPath(field), message: `${field} applies to later stages of a multi-stage vehicle only` }));
    },
  },
];
